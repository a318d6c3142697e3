package calendar

import (
	"context"
	"sync"
	"time"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// slots bounds the requests running against one mailbox (graph-facts §7:
// 4 at once per app per mailbox) and spends the mailbox's request budget.
// A plain request holds one slot, and so does a $batch whose items depend
// on each other in one chain, since Graph runs such items one at a time
// (§6); an unordered batch holds one per item that Graph may run at once.
// Taking several slots is serialized by turn, so two batches never each
// hold part of the slots and wait on each other.
type slots struct {
	turn   chan struct{} // a mutex that a context can abandon
	free   chan struct{} // one token per free slot
	size   int
	budget *budget // nil: no budget
}

func newSlots(n int, b *budget) *slots {
	s := &slots{turn: make(chan struct{}, 1), free: make(chan struct{}, n), size: n, budget: b}
	for range n {
		s.free <- struct{}{}
	}
	return s
}

// acquire spends n requests of the budget and takes one slot for them (n
// requests that run one after another), returning the function that gives
// the slot back. It fails with a throttled error, before anything is sent,
// when the budget has fewer than n requests left, or with ctx's error when
// ctx ends first.
func (s *slots) acquire(ctx context.Context, n int) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var sp *spend
	if s.budget != nil {
		now := time.Now()
		if sp = s.budget.take(n, now); sp == nil || sp.n < n {
			s.budget.settle(sp, now, n)
			return nil, s.budget.spent(now)
		}
	}
	free, err := s.hold(ctx, 1)
	if err != nil {
		s.budget.settle(sp, time.Now(), n)
		return nil, err
	}
	return func() {
		free()
		s.budget.settle(sp, time.Now(), 0)
	}, nil
}

// hold takes n slots (capped at the limit) without spending the budget
// (Apply spends it for a batch's items when it puts the batch together),
// and returns the function that gives them back, or ctx's error when it
// ends first.
func (s *slots) hold(ctx context.Context, n int) (release func(), err error) {
	n = min(max(n, 1), s.size)
	select {
	case s.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-s.turn }()
	for got := 0; got < n; got++ {
		select {
		case <-s.free:
		case <-ctx.Done():
			for range got {
				s.free <- struct{}{}
			}
			return nil, ctx.Err()
		}
	}
	return func() {
		for range n {
			s.free <- struct{}{}
		}
	}, nil
}

// budgetWindow is the span of Graph's per-mailbox request limit
// (graph-facts §7: 10,000 requests per 10 minutes per app per mailbox).
const budgetWindow = 10 * time.Minute

// budget counts the requests one Remote sends to the mailbox within a
// sliding window, every batch item counting as one request (the $batch
// envelope does not: it targets no mailbox). A Remote serves one call, so
// the budget covers this call's requests only; the error it answers once
// spent (spent) asks the caller to come back when none of them counts any
// more, so that the next call starts with the whole budget as well.
//
// Graph counts a request when it runs it, which for the items of a chained
// batch is up to the batch's answer; a spend is therefore dated when its
// requests were answered (settle), and counts until then, whatever the
// clock says.
type budget struct {
	limit  int
	window time.Duration

	mu   sync.Mutex
	sent []*spend // in the order taken
	used int      // the sum of sent's n
	last time.Time
}

// A spend is requests taken together: a batch's items, or one request.
type spend struct {
	at   time.Time
	n    int
	open bool // not answered yet
}

func newBudget(limit int) *budget {
	return &budget{limit: limit, window: budgetWindow}
}

// expire forgets the spends at the head that left the window at now; b.mu
// is held. A spend behind an open one waits for it: it leaves a little
// late, never early.
func (b *budget) expire(now time.Time) {
	cut := 0
	for cut < len(b.sent) && !b.sent[cut].open && !b.sent[cut].at.Add(b.window).After(now) {
		b.used -= b.sent[cut].n
		cut++
	}
	clear(b.sent[:cut])
	b.sent = b.sent[cut:]
}

// take spends up to n requests at now and returns the spend (its n is how
// many), open until settled; nil when none is left.
func (b *budget) take(n int, now time.Time) *spend {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expire(now)
	k := min(n, b.limit-b.used)
	if k <= 0 {
		return nil
	}
	sp := &spend{at: now, n: k, open: true}
	b.sent = append(b.sent, sp)
	b.used += k
	return sp
}

// settle dates sp's requests at, when they were answered, and gives back
// unsent of them that Graph never performed (a 424, or never sent at all).
// It accepts a nil budget or spend.
func (b *budget) settle(sp *spend, at time.Time, unsent int) {
	if b == nil || sp == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	k := min(unsent, sp.n)
	sp.n -= k
	b.used -= k
	sp.at, sp.open = at, false
	if at.After(b.last) {
		b.last = at
	}
}

// left returns how many requests may still be sent at now.
func (b *budget) left(now time.Time) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expire(now)
	return max(b.limit-b.used, 0)
}

// freeAt returns when requests may be sent again: now when some are left,
// when the oldest spend leaves the window otherwise (a window later when
// it is still open: its answer comes first).
func (b *budget) freeAt(now time.Time) time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expire(now)
	if b.used < b.limit || len(b.sent) == 0 {
		return now
	}
	if b.sent[0].open {
		return now.Add(b.window)
	}
	return b.sent[0].at.Add(b.window)
}

// spent is the answer for a request the budget does not allow at now:
// throttled, with the wait until none of this Remote's requests counts in
// Graph's window any more. A call that starts then has the mailbox's whole
// budget, whatever it sends.
func (b *budget) spent(now time.Time) *calsync.Error {
	b.mu.Lock()
	last := b.last
	for _, sp := range b.sent {
		if sp.open && now.After(last) {
			last = now // answered later still; Apply asks once none is open
		}
	}
	b.mu.Unlock()
	wait := max(last.Add(b.window).Sub(now), time.Second)
	return &calsync.Error{Kind: calsync.KindThrottled, Op: "graph.budget", Code: "RequestBudgetSpent", RetryAfter: wait,
		Message: "not sent: this call used the mailbox's request budget (Microsoft allows 10,000 requests per 10 minutes); a later call sends it"}
}
