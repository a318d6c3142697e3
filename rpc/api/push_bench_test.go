package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/oro-msync/oro-msync/graphclient"
	"github.com/oro-msync/oro-msync/graphclient/graphsim"
)

// BenchmarkPushVsPolling counts the Graph requests of one simulated day
// per user: polling every 15 minutes versus push with a 6-hour safety
// sync, for OROMSYNC_BENCH_USERS users (default 1000), each changing its
// Outlook calendar benchChanges times a day at random times (seeded).
// The counts come from the simulator's request log (HTTP requests under
// /v1.0; a $batch is one). The handlers run in process, as the binary
// would run them. Push's one-off subscription create is left out, and its
// renewal (one PATCH per 6 days) is not inside one day: add 1/6.
func BenchmarkPushVsPolling(b *testing.B) {
	users := 1000
	if v, err := strconv.Atoi(os.Getenv("OROMSYNC_BENCH_USERS")); err == nil && v > 0 {
		users = v
	}
	var poll, push dayCount
	for b.Loop() {
		poll = simulateDay(b, users, false)
		push = simulateDay(b, users, true)
	}
	per := func(n int) float64 { return float64(n) / float64(users) }
	b.ReportMetric(per(poll.graph), "graph-req/user/day-poll15m")
	b.ReportMetric(per(push.graph), "graph-req/user/day-push")
	b.ReportMetric(per(poll.runs), "runs/user/day-poll15m")
	b.ReportMetric(per(push.runs), "runs/user/day-push")
	b.ReportMetric(per(push.notifications), "notification-posts/user/day")
	b.ReportMetric(per(poll.token), "token-req/user/day-poll15m")
	b.ReportMetric(per(push.token), "token-req/user/day-push")
}

// benchChanges is the Outlook changes per user per day: two new events,
// two edits and a deletion.
const benchChanges = 5

type dayCount struct{ graph, token, runs, notifications int }

type benchUser struct {
	upn    string
	tok    graphclient.Tokens
	state  json.RawMessage
	sub    SubscriptionRecord
	events []string
}

type benchChange struct {
	at   time.Duration
	user int
}

func simulateDay(b *testing.B, users int, withPush bool) dayCount {
	b.Helper()
	// the simulated day starts now: x/oauth2 judges expiry by the real clock
	start := time.Now().UTC().Truncate(time.Second)
	sim := graphsim.New(graphsim.Options{Seed: 7, Now: func() time.Time { return start }, AutoConsent: true, Logf: func(string, ...any) {}})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	const clientID, secret, redirect = "0b9d6f0e-7d8c-4f4e-9a51-3f7c1d2e8a10", "bench-secret", "http://localhost:8400/cb"
	sim.RegisterApp(graphsim.App{ClientID: clientID, ClientSecret: secret, RedirectURIs: []string{redirect}})
	app := graphclient.App{Tenant: "common", ClientID: clientID, ClientSecret: secret, RedirectURI: redirect}
	env := Env{AuthorityURL: srv.URL, GraphURL: srv.URL + "/v1.0", Logger: zerolog.Nop(), Now: sim.Now}
	cfg := graphclient.Config{Endpoints: graphclient.Endpoints{Authority: srv.URL, Graph: srv.URL + "/v1.0"}, Logger: zerolog.Nop(), Now: sim.Now}

	var mu sync.Mutex
	var bodies []string
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok := r.URL.Query().Get("validationToken"); tok != "" {
			w.Header().Set("Content-Type", "text/plain")
			_, _ = io.WriteString(w, tok)
			return
		}
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(body))
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer host.Close()

	// x/oauth2 dates a token's expiry by the real clock, which the
	// simulated day leaves behind: redate it by the simulated clock, as a
	// host whose clock agrees with Microsoft's would see it, or every run
	// after the first hour would meet a 401 before it refreshes.
	fresh := func(t graphclient.Tokens) graphclient.Tokens {
		t.ExpiresAt = sim.Now().Add(time.Hour)
		return t
	}
	ctx := context.Background()
	call := func(h func(context.Context, json.RawMessage) (any, error), params any, into any) {
		raw, _ := json.Marshal(params)
		out, err := h(ctx, raw)
		if err != nil {
			b.Fatalf("%T: %v", h, err)
		}
		raw, _ = json.Marshal(out)
		if err := json.Unmarshal(raw, into); err != nil {
			b.Fatal(err)
		}
	}
	run := syncRun(env)
	cascade := map[string]any{"system": map[string]any{"enabled": true}}
	syncUser := func(u *benchUser) {
		params := map[string]any{"app": app, "tokens": u.tok, "cascade": cascade, "events": []any{}, "mode": "incremental", "state": u.state}
		if u.state == nil {
			params["mode"] = "full"
			delete(params, "state")
		}
		var r struct {
			Status string
			State  json.RawMessage
			Tokens *graphclient.Tokens
		}
		call(run, params, &r)
		if r.Status != "completed" {
			b.Fatalf("sync.run %s", r.Status)
		}
		u.state = r.State
		if r.Tokens != nil {
			u.tok = fresh(*r.Tokens)
		}
	}

	// connect every user, a first full run, a subscription: not counted
	us := make([]*benchUser, users)
	byUser := map[string]*benchUser{}
	for i := range us {
		u := &benchUser{upn: fmt.Sprintf("user%04d@contoso.example", i)}
		sim.AddUser(graphsim.User{UPN: u.upn, DisplayName: u.upn, Mail: u.upn})
		auth, err := graphclient.NewAuthorization(cfg, app, graphclient.AuthorizationRequest{LoginHint: u.upn})
		if err != nil {
			b.Fatal(err)
		}
		g, err := graphclient.Exchange(ctx, cfg, app, benchAuthorize(b, auth.URL), auth.CodeVerifier)
		if err != nil {
			b.Fatal(err)
		}
		u.tok = fresh(g.Tokens)
		syncUser(u)
		if withPush {
			var e SubscriptionEnsureResult
			call(subscriptionEnsure(env), map[string]any{"app": app, "tokens": u.tok, "notificationUrl": host.URL}, &e)
			u.sub = e.Subscription
			if e.Tokens != nil {
				u.tok = fresh(*e.Tokens)
			}
		}
		us[i], byUser[strconv.Itoa(i)] = u, u
	}
	rng := rand.New(rand.NewPCG(7, 7))
	var changes []benchChange
	for i := range us {
		for range benchChanges {
			changes = append(changes, benchChange{at: time.Duration(rng.Int64N(int64(24 * time.Hour))), user: i})
		}
	}
	slices.SortFunc(changes, func(a, b benchChange) int { return int(a.at - b.at) })
	sim.WaitNotifications()
	sim.ResetLog()
	sentBefore := sim.NotificationsSent()

	var c dayCount
	clock := time.Duration(0)
	advance := func(to time.Duration) {
		sim.Advance(to - clock)
		clock = to
	}
	change := func(ch benchChange) {
		u := us[ch.user]
		day := start.AddDate(0, 0, 3).Format("2006-01-02")
		switch n := len(u.events); {
		case n == 0 || n < 2 && ch.at%2 == 0:
			id, err := sim.UserCreateEvent(u.upn, map[string]any{"subject": "Meeting", "start": map[string]any{"dateTime": day + "T10:00:00", "timeZone": "UTC"},
				"end": map[string]any{"dateTime": day + "T11:00:00", "timeZone": "UTC"}})
			if err != nil {
				b.Fatal(err)
			}
			u.events = append(u.events, id)
		case ch.at%3 == 0:
			if err := sim.UserDeleteEvent(u.upn, u.events[n-1]); err != nil {
				b.Fatal(err)
			}
			u.events = u.events[:n-1]
		default:
			if err := sim.UserUpdateEvent(u.upn, u.events[0], map[string]any{"subject": "Meeting " + ch.at.String()}); err != nil {
				b.Fatal(err)
			}
		}
	}
	// drain verifies what arrived and syncs the users it names, until the
	// syncs' own writes (if any) notify nothing more
	drain := func() {
		for range 10 {
			sim.WaitNotifications()
			mu.Lock()
			got := bodies
			bodies = nil
			mu.Unlock()
			if len(got) == 0 {
				return
			}
			toSync := map[string]bool{}
			for _, body := range got {
				var subs []NotificationSubscription
				for k, u := range byUser {
					if strings.Contains(body, u.sub.ID) {
						subs = append(subs, NotificationSubscription{ID: u.sub.ID, ClientState: u.sub.ClientState, User: k})
					}
				}
				var v NotificationVerifyResult
				call(notificationVerify, NotificationVerifyParams{Body: body, Subscriptions: subs}, &v)
				for _, s := range v.Sync {
					toSync[s.User] = true
				}
			}
			for k := range toSync {
				syncUser(byUser[k])
				c.runs++
			}
		}
		b.Fatal("notifications did not settle")
	}
	step := 15 * time.Minute
	if withPush {
		step = 6 * time.Hour
	}
	next := 0
	for t := step; t <= 24*time.Hour; t += step {
		for ; next < len(changes) && changes[next].at < t; next++ {
			advance(changes[next].at)
			change(changes[next])
			if withPush {
				drain()
			}
		}
		advance(t)
		for _, u := range us {
			syncUser(u)
			c.runs++
		}
	}
	for _, r := range sim.Requests() {
		if strings.HasPrefix(r.Path, "/v1.0") {
			c.graph++
		} else if strings.HasSuffix(r.Path, "/token") {
			c.token++
		}
	}
	c.notifications = sim.NotificationsSent() - sentBefore
	return c
}

func benchAuthorize(b *testing.B, authURL string) string {
	b.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(authURL)
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		b.Fatalf("authorize: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc.Query().Get("code")
}
