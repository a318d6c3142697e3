package calsync

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The read phase: one calendarView delta round, page by page.

// errBudget is the cause of the run's context ending with the time budget,
// and what readRound answers when the budget ran out before it read a page.
var errBudget = errors.New("the time budget ran out")

// roundRead is what readRound read of a delta round.
type roundRead struct {
	items map[string]*RemoteEvent // by id; later occurrences replace earlier ones
	page  map[string]int          // the page each item was last seen on
	// links[k] is the link that reads page k: a state whose nextLink is
	// links[k] continues the round after the pages before k
	links []string
	// deltaLink ends a round read to its end; nextLink continues one that
	// was not (or whose pages from links[k] on were left undecided)
	deltaLink, nextLink string
}

// readRound reads one delta round from link ("" for a new round). It stops
// at the deltaLink, or after a page read at or after stopAt or when the
// budget cut a request short (nextLink set; errBudget when not even the
// first page came), and fails on a round that does not end (endless
// nextLinks).
func (e *engine) readRound(ctx context.Context, link string, stopAt time.Time) (*roundRead, error) {
	rd := &roundRead{items: map[string]*RemoteEvent{}, page: map[string]int{}}
	var lastSig string
	repeats := 0
	for page := 0; ; page++ {
		if page >= e.opts.MaxDeltaPages {
			return rd, &Error{Kind: KindUnavailable, Op: "sync.delta", Message: fmt.Sprintf("the delta round did not end after %d pages", page)}
		}
		if page > 0 && !e.opts.Now().Before(stopAt) {
			rd.nextLink = link
			return rd, nil
		}
		e.call("delta")
		p, err := e.remote.Delta(ctx, e.window, link)
		if err != nil {
			e.noteErr(err) // a Retry-After is kept even when the budget ends the round
		}
		// a wait Microsoft (or the Remote's request budget) asks for past
		// the budget's end ends the round as the budget would
		stop := err != nil && (e.timeUp() || e.waitsPastBudget(err))
		switch {
		case stop && page > 0:
			rd.nextLink = link
			return rd, nil
		case stop:
			return rd, errBudget
		case err != nil:
			return rd, err
		}
		for _, l := range [...]string{p.NextLink, p.DeltaLink} {
			if err := e.checkLink(l); err != nil {
				return rd, err
			}
		}
		rd.links = append(rd.links, link)
		sig := e.takePage(rd, p, page)
		if sig != "" && sig == lastSig {
			// the same non-empty page again under a new nextLink: a known
			// service bug that never ends
			if repeats++; repeats >= 3 {
				return rd, &Error{Kind: KindUnavailable, Op: "sync.delta", Message: "the delta round repeats the same page"}
			}
		} else {
			lastSig, repeats = sig, 0
		}
		if p.DeltaLink != "" {
			rd.deltaLink = p.DeltaLink
			return rd, nil
		}
		if p.NextLink == "" || p.NextLink == link {
			return rd, &Error{Kind: KindUnavailable, Op: "sync.delta", Message: "a delta page carried neither a new nextLink nor a deltaLink"}
		}
		link = p.NextLink
	}
}

// takePage adds a page's items to rd and returns the page's signature (its
// ids and changeKeys), which tells a page repeated under a new nextLink.
func (e *engine) takePage(rd *roundRead, p DeltaPage, page int) string {
	var sig strings.Builder
	for i := range p.Events {
		ev := &p.Events[i] // kept where the page holds it, not copied
		if msg := remoteIDProblem(ev.ID); msg != "" {
			// never an operation or a link the host cannot use
			e.res.Issues = append(e.res.Issues, Issue{Kind: KindUnavailable, Retryable: true, Reason: ReasonReadFailed,
				Message: "an item of Microsoft 365's change list was left out: its id " + msg})
			continue
		}
		sig.WriteString(ev.ID)
		sig.WriteByte('/')
		sig.WriteString(ev.ChangeKey)
		sig.WriteByte(';')
		rd.items[ev.ID], rd.page[ev.ID] = ev, page
	}
	return sig.String()
}

// checkLink checks a link a delta page answered ("" passes) as the state
// that keeps it will be checked: a link that fails is Microsoft's fault.
func (e *engine) checkLink(link string) error {
	if link == "" {
		return nil
	}
	var err error
	if msg := linkProblem(link); msg != "" {
		err = errors.New("the link " + msg)
	} else if e.opts.CheckLink != nil {
		err = e.opts.CheckLink("link", link)
	}
	if err != nil {
		return &Error{Kind: KindUnavailable, Op: "sync.delta", Message: "Microsoft 365 answered a delta link that cannot be followed", Err: err}
	}
	return nil
}
