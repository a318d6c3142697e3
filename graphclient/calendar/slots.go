package calendar

import "context"

// slots bounds the requests running against one mailbox. A request holds one
// slot; a batch holds one per item that Graph may run at once (at most the
// limit). Acquiring several slots is serialized by turn, so two batches never
// each hold part of the slots and wait on each other.
type slots struct {
	turn chan struct{} // a mutex that a context can abandon
	free chan struct{} // one token per free slot
	size int
}

func newSlots(n int) *slots {
	s := &slots{turn: make(chan struct{}, 1), free: make(chan struct{}, n), size: n}
	for range n {
		s.free <- struct{}{}
	}
	return s
}

// acquire takes n slots (capped at the limit) and returns the function that
// gives them back, or ctx's error when it ends first.
func (s *slots) acquire(ctx context.Context, n int) (release func(), err error) {
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
