package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/oro-msync/oro-msync/graphclient/graphsim"
)

// The app registration and the user the simulator knows. The secret is
// made up; the transcript shows only its first characters all the same.
const (
	tenant       = "common"
	clientID     = "6731de76-14a6-49ae-97bc-6eba6914391e"
	clientSecret = "demo-Client~Secret.9f3b7c1e2d"
	redirectURI  = "http://localhost:8400/microsoft/callback"
	upn          = "adele@contoso.example"
)

// report is what a run leaves behind for a test.
type report struct {
	Oro     []oroEvent       // the Oro store at the end
	Mailbox []map[string]any // the simulated mailbox at the end
	Secrets []string         // every credential the demo handled
}

// app is the app registration as the host sends it.
type app struct {
	Tenant       string `json:"tenant"`
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret,omitempty"`
	RedirectURI  string `json:"redirectUri"`
}

type window struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// demo is the state of one run.
type demo struct {
	out     io.Writer
	sim     *graphsim.Sim
	sc      *sidecar
	oro     *oroStore
	app     app
	window  window
	today   time.Time
	secrets []string
}

// keep remembers credentials for the report.
func (d *demo) keep(s ...string) { d.secrets = append(d.secrets, s...) }

func (d *demo) section(title string) { fmt.Fprintf(d.out, "\n== %s\n", title) }

// run plays the whole demo and writes its transcript to stdout.
func run(ctx context.Context, o options, stdout io.Writer) (err error) {
	today := time.Now().UTC().Truncate(24 * time.Hour)
	d := &demo{
		out:    stdout,
		oro:    newOroStore(),
		app:    app{Tenant: tenant, ClientID: clientID, ClientSecret: clientSecret, RedirectURI: redirectURI},
		window: window{Start: today.AddDate(0, 0, -7), End: today.AddDate(0, 0, 60)},
		today:  today,
	}
	d.keep(clientSecret)
	if o.Report != nil {
		defer func() {
			o.Report.Oro = d.oro.request(true)
			o.Report.Mailbox = d.sim.Events(upn)
			o.Report.Secrets = d.secrets
		}()
	}
	fmt.Fprintln(stdout, "oro-msync demo: two-way calendar sync between an Oro calendar and Microsoft 365,")
	fmt.Fprintln(stdout, "against the built-in Microsoft 365 simulator (no account; nothing leaves this machine).")

	d.section("1. Microsoft 365 simulator")
	base, stopSim, err := d.startSimulator(o)
	if err != nil {
		return err
	}
	defer stopSim()

	d.section("2. The sidecar, started as Oro starts it")
	if o.Sidecar == "" {
		fmt.Fprintln(stdout, "(go run builds it first: about a minute the first time)")
	}
	d.sc, err = startSidecar(o, base, base+"/v1.0", stdout)
	if err != nil {
		return err
	}
	defer func() {
		if stopErr := d.sc.stop(); stopErr != nil && err == nil {
			err = fmt.Errorf("the sidecar exited with %v", stopErr)
		}
	}()
	var doc struct {
		Info    struct{ Version string }
		Methods []struct{ Name string }
	}
	if err := d.sc.call(ctx, "rpc.discover", nil, &doc); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "oro-msync speaks API %s: %d methods\n", doc.Info.Version, len(doc.Methods))

	steps := []func(context.Context) error{d.connect, d.firstSync, d.editBothSides, d.incrementalSync, d.verify}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
	}

	d.section("8. Shut down: close the sidecar's stdin and wait")
	if err := d.sc.stop(); err != nil {
		return fmt.Errorf("the sidecar exited with %v", err)
	}
	fmt.Fprintln(stdout, "the sidecar exited with status 0")
	return nil
}

// startSimulator serves the simulator on a free port, registers the app
// and the user, and seeds three events made in Outlook. It returns the
// server's base URL (the authority; Graph is under /v1.0).
func (d *demo) startSimulator(o options) (string, func(), error) {
	logf := func(string, ...any) {}
	if o.Verbose {
		logf = func(format string, args ...any) { fmt.Fprintf(o.Stderr, "graphsim: "+format+"\n", args...) }
	}
	d.sim = graphsim.New(graphsim.Options{AutoConsent: true, Logf: logf})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: d.sim, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	stop := func() { _ = srv.Close() }
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(d.out, "listening on %s (identity platform) and %s/v1.0 (Graph)\n", base, base)

	d.sim.RegisterApp(graphsim.App{ClientID: clientID, ClientSecret: clientSecret, RedirectURIs: []string{redirectURI}})
	d.sim.AddUser(graphsim.User{UPN: upn, DisplayName: "Adele Vance", Mail: upn})
	fmt.Fprintf(d.out, "app %s registered (redirect URI %s); user %s\n", clientID, redirectURI, upn)

	utc := func(days, hour, minute int) map[string]any {
		t := d.today.AddDate(0, 0, days).Add(time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute)
		return map[string]any{"dateTime": t.Format("2006-01-02T15:04:05"), "timeZone": "UTC"}
	}
	seeds := []map[string]any{
		{"subject": "Team standup", "start": utc(1, 8, 0), "end": utc(1, 8, 15),
			"location": map[string]any{"displayName": "Teams"}},
		{"subject": "Dentist", "start": utc(2, 14, 0), "end": utc(2, 15, 0),
			"body": map[string]any{"contentType": "text", "content": "Bring the insurance card"}},
		{"subject": "Company holiday", "isAllDay": true, "start": utc(6, 0, 0), "end": utc(7, 0, 0)},
	}
	for _, ev := range seeds {
		if _, err := d.sim.UserCreateEvent(upn, ev); err != nil {
			stop()
			return "", nil, fmt.Errorf("seeding %q: %w", ev["subject"], err)
		}
	}
	fmt.Fprintf(d.out, "%s's mailbox, as Adele made it in Outlook:\n", upn)
	if err := d.printMailbox(); err != nil {
		stop()
		return "", nil, err
	}
	return base, stop, nil
}

// connect does what Oro's "Connect Microsoft 365" button does.
func (d *demo) connect(ctx context.Context) error {
	d.section("3. Connect the account: sign-in URL, browser, code exchange, check")
	var auth struct {
		URL          string `json:"url"`
		State        string `json:"state"`
		CodeVerifier string `json:"codeVerifier"`
	}
	public := d.app
	public.ClientSecret = "" // building the URL needs no secret
	if err := d.sc.call(ctx, "connection.authorizationUrl", map[string]any{"app": public, "loginHint": upn}, &auth); err != nil {
		return err
	}
	d.keep(auth.State, auth.CodeVerifier)
	fmt.Fprintln(d.out, "Oro keeps state and codeVerifier in the user's session and sends the browser to url.")

	code, state, err := d.browse(auth.URL)
	if err != nil {
		return err
	}
	d.keep(code)

	var conn struct {
		Tokens  tokens `json:"tokens"`
		Account struct {
			DisplayName string `json:"displayName"`
			Email       string `json:"email"`
		} `json:"account"`
		GrantedScopes []string `json:"grantedScopes"`
	}
	if err := d.sc.call(ctx, "connection.exchangeCode", map[string]any{"app": d.app, "code": code, "state": state,
		"expectedState": auth.State, "codeVerifier": auth.CodeVerifier}, &conn); err != nil {
		return err
	}
	d.keep(conn.Tokens.AccessToken, conn.Tokens.RefreshToken)
	d.oro.tokens = conn.Tokens
	fmt.Fprintf(d.out, "connected: %s <%s>, scopes %s; Oro stores the tokens\n",
		conn.Account.DisplayName, conn.Account.Email, strings.Join(conn.GrantedScopes, " "))

	var check struct {
		Status   string  `json:"status"`
		Message  string  `json:"message"`
		Tokens   *tokens `json:"tokens"`
		Calendar *struct {
			Name    string `json:"name"`
			CanEdit bool   `json:"canEdit"`
		} `json:"calendar"`
	}
	if err := d.sc.call(ctx, "connection.check", map[string]any{"app": d.app, "tokens": d.oro.tokens}, &check); err != nil {
		return err
	}
	if check.Tokens != nil {
		d.keep(check.Tokens.AccessToken, check.Tokens.RefreshToken)
		d.oro.tokens = *check.Tokens
	}
	if check.Status != "connected" || check.Calendar == nil {
		return fmt.Errorf("connection.check: %s: %s", check.Status, check.Message)
	}
	fmt.Fprintf(d.out, "status %s: %s Calendar %q (can edit: %v)\n", check.Status, check.Message, check.Calendar.Name, check.Calendar.CanEdit)
	return nil
}

// browse plays the user's browser: it opens the sign-in URL (the simulator
// signs Adele in and consents at once) and reads code and state from the
// redirect to Oro's callback, which it does not follow.
func (d *demo) browse(signIn string) (code, state string, err error) {
	c := &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(signIn)
	if err != nil {
		return "", "", fmt.Errorf("opening the sign-in URL: %w", err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	fmt.Fprintf(d.out, "browser: GET %s\n  → %d, to %s\n", redactURL(signIn), resp.StatusCode, redactURL(loc))
	u, err := url.Parse(loc)
	if err != nil || resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, redirectURI+"?") {
		return "", "", fmt.Errorf("sign-in: %d, redirect %q", resp.StatusCode, redactURL(loc))
	}
	q := u.Query()
	if q.Get("code") == "" {
		return "", "", fmt.Errorf("sign-in failed: %s: %s", q.Get("error"), q.Get("error_description"))
	}
	fmt.Fprintln(d.out, "Oro's callback receives code and state.")
	return q.Get("code"), q.Get("state"), nil
}

// syncRun sends one sync.run, applies its result to the Oro store and
// prints what happened.
func (d *demo) syncRun(ctx context.Context, mode string) error {
	sent := d.oro.request(mode == "full")
	params := map[string]any{
		"app": d.app, "tokens": d.oro.tokens, "mode": mode, "window": d.window, "events": sent,
		"cascade": map[string]any{"organization": map[string]any{"enabled": true, "direction": "both", "conflictResolution": "oro_wins"}},
	}
	if d.oro.state != nil {
		params["state"] = d.oro.state
	}
	fmt.Fprintf(d.out, "Oro sends %d event(s) (mode %s):\n", len(sent), mode)
	for i := range sent {
		s, err := oroSlot(&sent[i])
		if err != nil {
			return err
		}
		fmt.Fprintf(d.out, "  #%s %s\n", sent[i].ID, describe(sent[i].Title, sent[i].Location, s))
	}
	var res syncResult
	if err := d.sc.call(ctx, "sync.run", params, &res); err != nil {
		var re *rpcError
		if errors.As(err, &re) {
			if t := re.rotatedTokens(); t != nil { // refreshed before it failed
				d.keep(t.AccessToken, t.RefreshToken)
				d.oro.tokens = *t
			}
		}
		return err
	}
	if res.Tokens != nil {
		d.keep(res.Tokens.AccessToken, res.Tokens.RefreshToken)
	}
	var requests []string
	for _, k := range slices.Sorted(maps.Keys(res.Stats.GraphRequests)) {
		requests = append(requests, fmt.Sprintf("%s %d", k, res.Stats.GraphRequests[k]))
	}
	fmt.Fprintf(d.out, "status %s%s: pushed %d, pulled %d, own echoes ignored %d; Graph requests: %s\n", res.Status,
		parenthesized(res.Reason), res.Stats.Pushed, res.Stats.Pulled, res.Stats.Echoes, strings.Join(requests, ", "))
	if len(res.Writes) > 0 {
		fmt.Fprintln(d.out, "written to Microsoft 365:")
		for _, w := range res.Writes {
			fmt.Fprintf(d.out, "  %-7s Oro #%s (%s): %s\n", w.Op, w.OroID, w.Reason, w.Outcome)
		}
	}
	fmt.Fprintln(d.out, "operations Oro applies, in order:")
	for _, op := range res.Operations {
		what := "#" + op.OroID
		if e := d.oro.find(op); e != nil && op.Event == nil {
			what = "#" + e.ID + " " + e.Title
		}
		if op.Event != nil {
			s, err := oroSlot(op.Event)
			if err != nil {
				return err
			}
			what = describe(op.Event.Title, op.Event.Location, s)
		}
		fmt.Fprintf(d.out, "  %-6s %s (%s)\n         → %s\n", op.Op, what, op.Reason, d.oro.apply(op))
	}
	for _, is := range res.Issues {
		fmt.Fprintf(d.out, "  issue: #%s %s: %s\n", is.OroID, is.Reason, is.Message)
	}
	d.oro.commit(sent, res)
	fmt.Fprintln(d.out, "Oro stores the links, the new state and any new tokens together.")
	return nil
}

func parenthesized(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// firstSync adds two Oro events and runs the first, full sync.
func (d *demo) firstSync(ctx context.Context) error {
	d.section("4. First sync (full): two Oro events meet three Outlook events")
	cet := time.FixedZone("CET", 3600)
	review := d.today.AddDate(0, 0, 3)
	review = time.Date(review.Year(), review.Month(), review.Day(), 9, 0, 0, 0, cet)
	fair := d.today.AddDate(0, 0, 10)
	d.oro.add(oroEvent{UID: "oro-101@oro.example.com", Title: "Quarterly review", Description: "Agenda in the CRM",
		Location: "Room 4", Start: review.Format(time.RFC3339), End: review.Add(90 * time.Minute).Format(time.RFC3339)})
	d.oro.add(oroEvent{UID: "oro-102@oro.example.com", Title: "Trade fair", AllDay: true,
		Start: fair.Format(time.DateOnly), End: fair.AddDate(0, 0, 3).Format(time.DateOnly)})
	if err := d.syncRun(ctx, "full"); err != nil {
		return err
	}
	return d.printBoth()
}

// editBothSides changes one event in Outlook and another in Oro.
func (d *demo) editBothSides(context.Context) error {
	d.section("5. Both sides change")
	var dentist, review string
	for _, e := range d.oro.events {
		switch e.Title {
		case "Dentist":
			dentist = e.remoteID()
		case "Quarterly review":
			review = e.ID
		}
	}
	if dentist == "" || review == "" {
		return errors.New("the first sync did not leave a linked Dentist and Quarterly review in Oro")
	}
	moved := d.today.AddDate(0, 0, 2).Add(16 * time.Hour)
	dt := func(t time.Time) map[string]any {
		return map[string]any{"dateTime": t.Format("2006-01-02T15:04:05"), "timeZone": "UTC"}
	}
	if err := d.sim.UserUpdateEvent(upn, dentist, map[string]any{"subject": "Dentist (moved)",
		"start": dt(moved), "end": dt(moved.Add(time.Hour))}); err != nil {
		return fmt.Errorf("editing in Outlook: %w", err)
	}
	fmt.Fprintln(d.out, "in Outlook, Adele moves Dentist to 16:00 and renames it \"Dentist (moved)\"")
	d.oro.edit(review, func(e *oroEvent) { e.Title, e.Location = "Quarterly review (with the board)", "Board room" })
	fmt.Fprintf(d.out, "in Oro, someone renames #%s \"Quarterly review (with the board)\" and moves it to the Board room\n", review)
	return nil
}

// incrementalSync sends only what changed in Oro, with the stored state.
func (d *demo) incrementalSync(ctx context.Context) error {
	d.section("6. Incremental sync: the changed Oro event, the stored state and links")
	if err := d.syncRun(ctx, "incremental"); err != nil {
		return err
	}
	return d.printBoth()
}

// verify checks that Oro and the mailbox hold the same events, all linked
// and all synced.
func (d *demo) verify(context.Context) error {
	d.section("7. Check")
	var oro []string
	for _, e := range d.oro.events {
		s, err := oroSlot(e)
		if err != nil {
			return err
		}
		if e.remoteID() == "" || d.oro.dirty[e.ID] {
			return fmt.Errorf("Oro event #%s %q is not synced", e.ID, e.Title)
		}
		oro = append(oro, describe(e.Title, e.Location, s))
	}
	sort.Strings(oro)
	ms, err := d.mailbox()
	if err != nil {
		return err
	}
	if !slices.Equal(oro, ms) {
		return fmt.Errorf("the two sides differ:\nOro:\n  %s\nMicrosoft 365:\n  %s",
			strings.Join(oro, "\n  "), strings.Join(ms, "\n  "))
	}
	fmt.Fprintf(d.out, "Oro and Microsoft 365 agree on all %d events, every Oro event is linked.\n", len(oro))
	return nil
}

// mailbox describes the events in the simulated mailbox, sorted.
func (d *demo) mailbox() ([]string, error) {
	var out []string
	for _, ev := range d.sim.Events(upn) {
		s, err := graphSlot(ev)
		if err != nil {
			return nil, err
		}
		subject, _ := ev["subject"].(string)
		loc, _ := ev["location"].(map[string]any)
		where, _ := loc["displayName"].(string)
		out = append(out, describe(subject, where, s))
	}
	sort.Strings(out)
	return out, nil
}

func (d *demo) printMailbox() error {
	ms, err := d.mailbox()
	for _, l := range ms {
		fmt.Fprintln(d.out, "  "+l)
	}
	return err
}

// printBoth lists the Oro calendar and the mailbox.
func (d *demo) printBoth() error {
	fmt.Fprintln(d.out, "Oro calendar now:")
	for _, id := range slices.Sorted(maps.Keys(d.oro.events)) {
		e := d.oro.events[id]
		s, err := oroSlot(e)
		if err != nil {
			return err
		}
		fmt.Fprintf(d.out, "  #%s %s\n", id, describe(e.Title, e.Location, s))
	}
	fmt.Fprintln(d.out, "Microsoft 365 mailbox now:")
	return d.printMailbox()
}
