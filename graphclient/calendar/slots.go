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
// the slot back. When the budget has fewer than n requests left it waits
// for the window to free them, as Apply does, if ctx's deadline leaves
// time; otherwise it fails with a throttled error, before anything is
// sent. It fails with ctx's error when ctx ends first.
func (s *slots) acquire(ctx context.Context, n int) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var sp *spend
	for s.budget != nil {
		if sp = s.budget.take(n); sp != nil && sp.n == n {
			break
		}
		s.budget.settle(sp, n)
		wait := s.budget.wait()
		if deadline, has := ctx.Deadline(); has && time.Now().Add(wait).After(deadline) {
			return nil, s.budget.spent()
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
	free, err := s.hold(ctx, 1)
	if err != nil {
		s.budget.settle(sp, n)
		return nil, err
	}
	return func() {
		free()
		s.budget.settle(sp, 0)
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
const budgetWindow = calsync.SentWindow

// budget counts the requests sent to the mailbox within a sliding window,
// every batch item counting as one request (the $batch envelope does not:
// it targets no mailbox): those of the earlier calls the state carries
// (State.Sent, per minute) and those of this Remote. The error it answers
// once spent (spent) asks the caller to come back when none of them counts
// any more, so that the next call starts with the whole budget.
//
// Graph counts a request when it runs it, which for the items of a chained
// batch is up to the batch's answer; a spend is therefore dated when its
// requests were answered (settle), and counts until then, whatever the
// clock says. A carried minute is dated at its last instant: it counts as
// long as any of its requests may.
type budget struct {
	limit  int
	window time.Duration
	now    func() time.Time

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

// newBudget returns a budget of limit requests per window on the clock
// now, with carried already spent.
func newBudget(limit int, now func() time.Time, carried []calsync.SentMinute) *budget {
	b := &budget{limit: limit, window: budgetWindow, now: now}
	for _, m := range calsync.SentWithin(carried, now()) {
		sp := &spend{at: m.At.Add(time.Minute - time.Nanosecond), n: m.N}
		b.sent = append(b.sent, sp)
		b.used += sp.n
		b.last = sp.at
	}
	return b
}

// expire forgets the spends at the head that left the window at now; b.mu
// is held. A spend behind an open one (or a carried minute not over yet)
// waits for it: it leaves a little late, never early.
func (b *budget) expire(now time.Time) {
	cut := 0
	for cut < len(b.sent) && !b.sent[cut].open && !b.sent[cut].at.Add(b.window).After(now) {
		b.used -= b.sent[cut].n
		cut++
	}
	clear(b.sent[:cut])
	b.sent = b.sent[cut:]
}

// take spends up to n requests now and returns the spend (its n is how
// many), open until settled; nil when none is left.
func (b *budget) take(n int) *spend {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
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

// settle dates sp's requests now, when they were answered, and gives back
// unsent of them that Graph never performed (a 424, or never sent at all).
// It accepts a nil budget or spend.
func (b *budget) settle(sp *spend, unsent int) {
	if b == nil || sp == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	at := b.now()
	k := min(unsent, sp.n)
	sp.n -= k
	b.used -= k
	sp.at, sp.open = at, false
	if at.After(b.last) {
		b.last = at
	}
}

// record counts n requests sent now beyond those taken: a read's retries
// by the SDK's retry handler (a 503 or 504 may have been performed, and
// Microsoft's limit counts what it was sent). They may take the budget
// past its limit. It accepts a nil budget.
func (b *budget) record(n int) {
	if b == nil || n <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	at := b.now()
	b.expire(at)
	b.sent = append(b.sent, &spend{at: at, n: n})
	b.used += n
	if at.After(b.last) {
		b.last = at
	}
}

// left returns how many requests may still be sent now.
func (b *budget) left() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expire(b.now())
	return max(b.limit-b.used, 0)
}

// wait returns how long until requests may be sent again: 0 when some are
// left, until the oldest spend leaves the window otherwise (a window when
// it is still open: its answer comes first).
func (b *budget) wait() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	b.expire(now)
	if b.used < b.limit || len(b.sent) == 0 {
		return 0
	}
	if b.sent[0].open {
		return b.window
	}
	return b.sent[0].at.Add(b.window).Sub(now)
}

// spent is the answer for a request the budget does not allow now:
// throttled, with the wait until none of the requests it counts (this
// Remote's and the carried ones) is in Graph's window any more, as the
// state carries them: dated at the end of their minute. A call that starts
// then has the mailbox's whole budget, whatever it sends.
func (b *budget) spent() *calsync.Error {
	b.mu.Lock()
	now := b.now()
	last := b.last
	for _, sp := range b.sent {
		if sp.open && now.After(last) {
			last = now // answered later still; Apply asks once none is open
		}
	}
	b.mu.Unlock()
	end := last.Truncate(time.Minute).Add(time.Minute)
	wait := max(end.Add(b.window).Sub(now), time.Second)
	return &calsync.Error{Kind: calsync.KindThrottled, Op: "graph.budget", Code: "RequestBudgetSpent", RetryAfter: wait,
		Message: "not sent: the mailbox's request budget is used (Microsoft allows 10,000 requests per 10 minutes; this call's and the earlier calls' of the last 10 minutes count); a later call sends it"}
}

// minutes returns the requests the budget counts, per minute (see
// calsync.RequestLedger), merged as the state keeps them (SentWithin).
func (b *budget) minutes() []calsync.SentMinute {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	b.expire(now)
	out := make([]calsync.SentMinute, 0, len(b.sent))
	for _, sp := range b.sent {
		out = append(out, calsync.SentMinute{At: sp.at, N: sp.n})
	}
	return calsync.SentWithin(out, now)
}
