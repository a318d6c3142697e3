package calsync_test

import (
	"context"
	"testing"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// finalRemote answers every create with err, as Apply does once its own
// retries and its lookup are spent (see calsync.Remote), and counts what
// the engine asks of it.
type finalRemote struct {
	calsync.Remote
	err           *calsync.Error
	creates, find int
}

func (f *finalRemote) Apply(ctx context.Context, ws []calsync.Write) ([]calsync.WriteResult, error) {
	var out []calsync.WriteResult
	var pass []calsync.Write
	for _, w := range ws {
		if w.Op == calsync.WriteCreate && f.err != nil {
			f.creates++
			out = append(out, calsync.WriteResult{Key: w.Key, Err: f.err})
			continue
		}
		pass = append(pass, w)
	}
	res, err := f.Remote.Apply(ctx, pass)
	return append(out, res...), err
}

func (f *finalRemote) FindByOroID(ctx context.Context, oroID string) ([]calsync.RemoteEvent, error) {
	f.find++
	return f.Remote.FindByOroID(ctx, oroID)
}

// A write error is final for the run (the Remote contract): the engine
// neither sends a failed create again nor looks it up itself, whatever the
// error; it reports the issue, and the next run creates the event once.
func TestWriteErrorFinalForTheRun(t *testing.T) {
	for _, err := range []*calsync.Error{
		{Kind: calsync.KindUnavailable, Op: "graph.createEvent", Message: "service unavailable"},
		{Kind: calsync.KindConflict, Op: "graph.createEvent", Code: "ErrorIrresolvableConflict"},
		{Kind: calsync.KindCancelled, Op: "graph.createEvent"},
	} {
		t.Run(string(err.Kind), func(t *testing.T) {
			w := newWorld(t)
			remote := &finalRemote{Remote: w.fake, err: err}
			w.remote = remote
			w.host.Add(calsync.Event{ID: "e1", UID: "uid-e1", Title: "Kick-off", Start: "2026-01-12T09:00:00Z", End: "2026-01-12T10:00:00Z"})
			res := w.sync(calsync.Options{})
			if remote.creates != 1 || remote.find != 0 {
				t.Errorf("create sent %d times, looked up %d times by the engine; want 1 and 0", remote.creates, remote.find)
			}
			if len(res.Issues) != 1 || res.Issues[0].OroID != "e1" || res.Issues[0].Kind != err.Kind {
				t.Errorf("issues %+v; want one for e1, kind %s", res.Issues, err.Kind)
			}
			remote.err = nil
			w.sync(calsync.Options{})
			var copies int
			for _, ev := range w.fake.Events() {
				if ev.OroID == "e1" {
					copies++
				}
			}
			if copies != 1 || w.host.Events["e1"].Link == nil {
				t.Fatalf("%d Microsoft copies of e1, link %v; want one copy, linked", copies, w.host.Events["e1"].Link)
			}
		})
	}
}
