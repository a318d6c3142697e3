package rpc

import "sync"

// pool runs calls, at most size at once. A call that finds every slot
// taken waits in a FIFO queue as data, not as a goroutine: a goroutine is
// started only for a call that has a slot, and when its call is done it
// runs the next queued one. The queue holds at most maxQueued calls.
type pool struct {
	size, maxQueued int
	run             func(*call)

	mu    sync.Mutex
	busy  int
	queue []*call
}

// submit runs c now, or queues it; it reports false (and does nothing)
// when the queue is full.
func (p *pool) submit(c *call) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.busy < p.size:
		p.busy++
		go p.work(c)
	case len(p.queue) < p.maxQueued:
		p.queue = append(p.queue, c)
	default:
		return false
	}
	return true
}

// work runs c and then queued calls until the queue is empty.
func (p *pool) work(c *call) {
	for c != nil {
		p.run(c)
		p.mu.Lock()
		c = nil
		if len(p.queue) > 0 {
			c = p.queue[0]
			p.queue[0] = nil
			p.queue = p.queue[1:]
		} else {
			p.busy--
		}
		p.mu.Unlock()
	}
}

// drop takes the queued calls for which gone is true out of the queue and
// returns them.
func (p *pool) drop(gone func(*call) bool) []*call {
	p.mu.Lock()
	defer p.mu.Unlock()
	var dropped []*call
	kept := p.queue[:0]
	for _, c := range p.queue {
		if gone(c) {
			dropped = append(dropped, c)
		} else {
			kept = append(kept, c)
		}
	}
	clear(p.queue[len(kept):])
	p.queue = kept
	return dropped
}
