package graphsim

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"
)

// deltaRound is the item list of one delta round, computed when the round
// starts; items are rendered from current state when their page is served.
type deltaRound struct {
	refs []deltaRef
}

type deltaRef struct {
	key     string
	removed bool
	group   string
}

// deltaState is what a $skiptoken or $deltatoken stands for. Tokens are
// opaque keys into mailbox.tokens (facts §1.2: they encode the window and
// query), so expiring or evicting them is exact (facts §1.6).
type deltaState struct {
	isDelta bool
	round   *deltaRound // skip tokens
	pos     int         // skip tokens
	ws, we  time.Time
	seq     int64 // delta tokens: changes up to seq were delivered
	prevSeq int64 // the seq the delivered round started from (replays)
	tz      string
	path    string
	gen     int
	initial bool // the round is an initial one (empty-first-page switch)
}

const skipTokenCap = 1000

// ExpireDeltaTokens forgets every delta and skip token of the user's
// mailbox: the next delta request with one answers 410 SyncStateNotFound.
func (s *Sim) ExpireDeltaTokens(upn string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.userLocked(upn)
	if err != nil {
		return err
	}
	u.mb.tokens = map[string]*deltaState{}
	u.mb.deltaFIFO = nil
	return nil
}

// ForceSyncReset makes the next delta request carrying a token answer 410
// Gone with a Location header holding the initial query (facts §1.6).
func (s *Sim) ForceSyncReset(upn string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.userLocked(upn)
	if err != nil {
		return err
	}
	u.mb.resetNext = true
	return nil
}

func (s *Sim) delta(c *gctx) {
	path := strings.TrimSuffix(c.r.URL.Path, "()")
	allowed := []string{"$skiptoken", "$deltatoken"}
	if s.opts.DeltaIgnoreExpand {
		allowed = append(allowed, "$expand")
		c.q.Del("$expand")
	}
	if !c.checkQuery(allowed...) || !c.need(readCal...) {
		return
	}
	skipTok, deltaTok := c.q.Get("$skiptoken"), c.q.Get("$deltatoken")
	mb := c.u.mb

	var st *deltaState
	if skipTok != "" || deltaTok != "" {
		s.mu.Lock()
		st = mb.tokens[skipTok+deltaTok]
		if mb.resetNext {
			mb.resetNext = false
			s.mu.Unlock()
			if st != nil {
				q := url.Values{"startDateTime": {st.ws.Format(time.RFC3339)}, "endDateTime": {st.we.Format(time.RFC3339)}, "$deltatoken": {""}}
				c.w.Header().Set("Location", c.nextLink(path, q))
			}
			c.fail(410, "resyncRequired", "The delta token is no longer valid; a synchronization reset is required. Start a new initial sync.")
			return
		}
		if st == nil || st.isDelta != (deltaTok != "") {
			gen := mb.generation
			s.mu.Unlock()
			c.fail(410, "SyncStateNotFound", fmt.Sprintf("The sync state generation is not found; generation=%d;[highest=%d][%d].", max(gen-s.opts.DeltaTokenCacheSize, 0), gen, gen))
			return
		}
		s.mu.Unlock()
	}

	var ws, we time.Time
	if st != nil {
		ws, we = st.ws, st.we
		if _, has := c.prefer["outlook.timezone"]; s.opts.DeltaRemembersTimeZone && !has && st.tz != "" {
			c.prefer["outlook.timezone"] = st.tz
		}
	} else {
		var ok bool
		if ws, we, ok = c.window(); !ok {
			return
		}
	}
	v, ok := c.view()
	if !ok {
		return
	}
	n, ok := c.pageSize(s.opts.DeltaDefaultPageSize)
	if !ok {
		return
	}
	c.applied = append(c.applied, "odata.track-changes")

	s.mu.Lock()
	cur := st
	if st == nil || st.isDelta {
		round, from, initial := &deltaRound{}, int64(0), st == nil
		if initial {
			for _, r := range mb.instancesInWindow(ws, we, !s.opts.DeltaOmitSeriesMaster) {
				round.refs = append(round.refs, deltaRef{key: r.key, group: r.group})
			}
		} else {
			from = st.seq
			if s.opts.DeltaReplay {
				from = st.prevSeq
			}
			round.refs = s.changedSince(mb, from, ws, we)
		}
		if s.opts.DeltaDuplicates {
			for _, r := range round.refs {
				if !r.removed {
					round.refs = append(round.refs, r)
				}
			}
		}
		prev := mb.seq
		if st != nil {
			prev = st.seq
		}
		cur = &deltaState{round: round, ws: ws, we: we, seq: mb.seq, prevSeq: prev, tz: c.prefer["outlook.timezone"], path: path, initial: initial}
	}

	page := []any{}
	pos := cur.pos
	emptyFirst := cur.initial && cur.pos == 0 && st == nil && s.opts.DeltaEmptyFirstPage
	if !emptyFirst {
		end := min(pos+n, len(cur.round.refs))
		for !s.opts.DeltaSplitSeries && end < len(cur.round.refs) && end > pos &&
			cur.round.refs[end].group != "" && cur.round.refs[end].group == cur.round.refs[end-1].group {
			end++
		}
		for _, r := range cur.round.refs[pos:end] {
			id := formatID(r.key, v.immutable)
			if r.removed {
				page = append(page, removedItem(id))
				continue
			}
			item, live := v.renderRef(mb, r.key, true)
			if !live {
				page = append(page, removedItem(id))
				continue
			}
			item["@odata.type"] = "#microsoft.graph.event"
			page = append(page, item)
		}
		pos = end
	}
	out := map[string]any{"@odata.context": c.base + "/v1.0/$metadata#Collection(event)", "value": page}
	if pos < len(cur.round.refs) || emptyFirst {
		next := *cur
		next.isDelta, next.pos = false, pos
		tok := s.token("")
		mb.tokens[tok] = &next
		mb.skipFIFO = append(mb.skipFIFO, tok)
		if len(mb.skipFIFO) > skipTokenCap {
			delete(mb.tokens, mb.skipFIFO[0])
			mb.skipFIFO = mb.skipFIFO[1:]
		}
		out["@odata.nextLink"] = c.nextLink(path, url.Values{"$skiptoken": {tok}})
	} else {
		mb.generation++
		dt := &deltaState{isDelta: true, ws: cur.ws, we: cur.we, seq: cur.seq, prevSeq: cur.prevSeq, tz: cur.tz, path: path, gen: mb.generation}
		tok := s.token("")
		mb.tokens[tok] = dt
		mb.deltaFIFO = append(mb.deltaFIFO, tok)
		if len(mb.deltaFIFO) > s.opts.DeltaTokenCacheSize {
			delete(mb.tokens, mb.deltaFIFO[0])
			mb.deltaFIFO = mb.deltaFIFO[1:]
		}
		out["@odata.deltaLink"] = c.nextLink(path, url.Values{"$deltatoken": {tok}})
	}
	s.mu.Unlock()
	c.ok(200, out)
}

// versionAt is the master's series as a token at seq saw it (nil if the
// master did not exist yet).
func versionAt(e *event, seq int64) *series {
	var v *series
	for _, h := range e.history {
		if h.seq <= seq {
			v = h
		}
	}
	return v
}

// changedSince lists what an incremental round returns for changes after
// from, as the field reports describe it (semantics §1.1):
//   - a changed single or exception comes in full; a deleted single, or
//     one moved out of the window, as @removed;
//   - a changed series brings its master (unless DeltaOmitSeriesMaster) and
//     its current in-window occurrences as stubs, the new ids after a
//     pattern or time change (unless DeltaMasterOnlyOnSeriesChange: the
//     master alone);
//   - a cancelled occurrence, and an occurrence or exception a pattern or
//     time change made obsolete, gives no @removed (unless
//     DeltaRemovedOccurrences);
//   - a deleted series gives @removed for its master only (none when masters
//     are omitted); its occurrences and exceptions get @removed only with
//     DeltaRemovedSeriesOccurrences.
func (s *Sim) changedSince(mb *mailbox, from int64, ws, we time.Time) []deltaRef {
	i := sort.Search(len(mb.changes), func(i int) bool { return mb.changes[i].seq > from })
	seen := map[string]bool{}
	var refs []deltaRef
	add := func(key string, removed bool, group string) {
		refs = append(refs, deltaRef{key: key, removed: removed, group: group})
	}
	for _, ch := range mb.changes[i:] {
		if seen[ch.key] {
			continue
		}
		seen[ch.key] = true
		e := mb.events[ch.key]
		switch {
		case e.typ == "singleInstance":
			add(e.key, e.deleted || !overlaps(e.start, e.end, ws, we), "")
		case e.typ == "exception" && e.deleted:
			m := mb.events[e.masterKey]
			if s.opts.DeltaRemovedOccurrences || (m.deleted && s.opts.DeltaRemovedSeriesOccurrences) {
				add(e.key, true, e.masterKey)
			}
		case e.typ == "exception":
			add(e.key, !overlaps(e.start, e.end, ws, we), e.masterKey)
		case e.deleted:
			if !s.opts.DeltaOmitSeriesMaster {
				add(e.key, true, e.key)
			}
			if s.opts.DeltaRemovedSeriesOccurrences {
				for _, o := range e.series().occurrences(ws, we, false) {
					add(occurrenceKey(e.key, o), true, e.key)
				}
			}
		default:
			cur := e.series()
			occ := cur.occurrences(ws, we, false)
			if !s.opts.DeltaOmitSeriesMaster {
				add(e.key, len(occ) == 0 && !mb.hasExceptionIn(e, ws, we), e.key)
			}
			if !s.opts.DeltaMasterOnlyOnSeriesChange {
				for _, o := range occ {
					add(occurrenceKey(e.key, o), false, e.key)
				}
			}
			if s.opts.DeltaRemovedOccurrences {
				s.removedOccurrences(e, from, ws, we, add)
			}
		}
	}
	return refs
}

// removedOccurrences reports, as @removed, the in-window occurrences of the
// series version a token at from saw that the current version no longer
// has (cancelled, or moved by a pattern or time change).
func (s *Sim) removedOccurrences(e *event, from int64, ws, we time.Time, add func(string, bool, string)) {
	old := versionAt(e, from)
	if old == nil {
		return
	}
	now := map[int64]bool{}
	for _, o := range e.series().occurrences(ws, we, true) {
		now[o.Unix()] = true
	}
	for _, o := range old.occurrences(ws, we, true) {
		if !now[o.Unix()] {
			add(occurrenceKey(e.key, o), true, e.key)
		}
	}
}
