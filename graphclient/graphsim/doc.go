// Package graphsim is an in-memory simulator of the two Microsoft 365 services
// the sidecar talks to: the Microsoft identity platform (OAuth 2.0
// authorization code flow with PKCE and refresh tokens) and the Microsoft
// Graph v1.0 calendar API (users, calendars, events, calendarView, delta,
// recurrence, extended properties, JSON batching and throttling).
//
// A *Sim is an http.Handler. Tests start it with httptest.NewServer(sim) and
// point the real client at it; cmd/graphsim serves it on a TCP port. Three URL
// spaces share one server:
//
//   - the authority, at the server root: /{tenant}/oauth2/v2.0/authorize and
//     /{tenant}/oauth2/v2.0/token;
//   - Graph, under /v1.0/;
//   - the control API, under /_sim/ (the same operations as the exported
//     methods, as JSON; see README.md).
//
// Every behaviour follows ../shared/docs/graph-facts.md and, for recurring
// series, time zones and meeting mail, calendar-semantics.md; comments cite
// their sections as "facts §n" and "semantics §n". Where a fact is
// UNCONFIRMED, the zero value of an Options field is the least helpful
// behaviour the sources allow and the alternative is a switch. README.md
// lists every switch and its default.
//
// The simulator is strict in the manner of Tailscale's testcontrol: its
// routes are one table (routes.go), and a route,
// method or query option it does not implement is answered the way Graph
// answers an unknown segment or option (400 with a JSON error), logged through
// Options.Logf and remembered in Unimplemented, never a silent 200.
//
// It must not depend on anything outside the standard library and the
// standard-library-only graphclient/tzmap (it is linked
// into fast test binaries and must not pull in msgraph-sdk-go), and it must
// never be reachable from production code paths.
package graphsim
