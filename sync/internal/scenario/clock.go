package scenario

import (
	"sync"
	"time"
)

// T0 is the fixed start of every scenario clock.
var T0 = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)

// Clock is the injected clock of scenario and model tests. It is safe for
// concurrent use: a simulator serving HTTP reads it from its own goroutines.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
