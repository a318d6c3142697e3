package graphclient

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/oro-msync/oro-msync/graphclient/graphsim"
)

// TestConcurrentSessions runs sessions for several users at once, as the RPC
// layer does with concurrent sync.run and connection.check requests, while
// further sessions are being built. Building a GraphServiceClient the SDK's
// way writes process-global state (store.BackingStoreFactoryInstance, the
// default serializer and parse-node registries) that parsing in the other
// sessions reads; under -race this test fails unless NewSession leaves those
// globals alone once they are set up (sdk-notes §0.8, §7).
func TestConcurrentSessions(t *testing.T) {
	const (
		workers = 4 // one mailbox each, so no mailbox is throttled
		rounds  = 6
		events  = 3
	)
	e := newEnv(t, graphsim.Options{})
	toks := make([]Tokens, workers)
	for i := range toks {
		upn := fmt.Sprintf("user%d@contoso.example", i)
		a, q := e.signIn(t, AuthorizationRequest{LoginHint: upn})
		g, err := Exchange(context.Background(), e.cfg, e.app, q.Get("code"), a.CodeVerifier)
		if err != nil {
			t.Fatal(err)
		}
		toks[i] = g.Tokens
		for j := range events {
			if _, err := e.sim.UserCreateEvent(upn, map[string]any{
				"subject": fmt.Sprintf("event %d", j),
				"start":   map[string]any{"dateTime": fmt.Sprintf("2025-03-%02dT09:00:00", 10+j), "timeZone": "UTC"},
				"end":     map[string]any{"dateTime": fmt.Sprintf("2025-03-%02dT10:00:00", 10+j), "timeZone": "UTC"},
			}); err != nil {
				t.Fatal(err)
			}
		}
	}

	ctx := context.Background()
	var (
		wg      sync.WaitGroup
		done    = make(chan struct{})
		built   atomic.Int64
		errs    = make(chan error, workers*rounds+1)
		running sync.WaitGroup
	)
	// A builder that only constructs sessions, so constructions overlap
	// the workers' parsing however the scheduler interleaves them.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := NewSession(ctx, e.cfg, e.app, toks[0]); err != nil {
				errs <- fmt.Errorf("builder: %w", err)
				return
			}
			built.Add(1)
		}
	}()
	for i := range toks {
		running.Add(1)
		go func() {
			defer running.Done()
			for r := range rounds {
				s, err := NewSession(ctx, e.cfg, e.app, toks[i])
				if err != nil {
					errs <- fmt.Errorf("worker %d round %d: session: %w", i, r, err)
					return
				}
				acct, err := s.Me(ctx)
				if err != nil {
					errs <- fmt.Errorf("worker %d round %d: me: %w", i, r, err)
					return
				}
				if want := fmt.Sprintf("user%d@contoso.example", i); acct.Email != want {
					errs <- fmt.Errorf("worker %d round %d: me = %q, want %q", i, r, acct.Email, want)
				}
				list, err := s.Client().Me().Events().Get(ctx, nil)
				if err != nil {
					errs <- fmt.Errorf("worker %d round %d: events: %w", i, r, err)
					return
				}
				if n := len(list.GetValue()); n != events {
					errs <- fmt.Errorf("worker %d round %d: %d events, want %d", i, r, n, events)
				}
			}
		}()
	}
	running.Wait()
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if built.Load() == 0 {
		t.Error("no session was built while the workers ran")
	}
}
