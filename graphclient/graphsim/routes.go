package graphsim

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// handlers maps a method to what serves it on one route.
type handlers map[string]func(c *gctx)

// gctxKey carries the request being served into the route table's handlers.
type gctxKey struct{}

// graphRoutes is every Graph resource the simulator serves (below /v1.0,
// after authentication and throttling; $batch is unpacked before this, in
// serveGraph, because its items take their own slots). A path not in the
// table, or a method a route does not list, is answered by unhandled: the
// loud 400 (or 405) that Graph gives for an unknown segment, recorded in
// Unimplemented (style: a strict fake, Tailscale testcontrol's initMux).
//
// Each event resource exists under /me and /users/{user}, and under the
// default calendar (/calendar) and the calendar by id (/calendars/{cal}).
func (s *Sim) graphRoutes() *http.ServeMux {
	mux := http.NewServeMux()
	add := func(pattern string, h handlers) {
		endpoint := "/v1.0" + strings.TrimSuffix(pattern, "()")
		endpoint = pathValueRe.ReplaceAllString(endpoint, "{id}")
		mux.HandleFunc("/v1.0"+pattern, func(w http.ResponseWriter, r *http.Request) {
			c := r.Context().Value(gctxKey{}).(*gctx)
			c.r = r
			c.endpoint = c.r.Method + " " + endpoint
			if !s.checkPathValues(c) {
				return
			}
			f, ok := h[r.Method]
			if !ok {
				s.methodNotAllowed(c, endpoint)
				return
			}
			f(c)
		})
	}
	id := func(f func(c *gctx, id string)) func(c *gctx) {
		return func(c *gctx) { f(c, c.r.PathValue("id")) }
	}
	for _, who := range []string{"/me", "/users/{user}"} {
		add(who, handlers{"GET": s.getMe})
		add(who+"/calendar", handlers{"GET": s.getCalendar})
		add(who+"/calendars", handlers{"GET": s.listCalendars})
		add(who+"/calendars/{cal}", handlers{"GET": s.getCalendar})
		for _, cal := range []string{"", "/calendar", "/calendars/{cal}"} {
			p := who + cal
			add(p+"/events", handlers{"GET": s.listEvents, "POST": s.postEvent})
			add(p+"/events/{id}", handlers{"GET": id(s.getEvent), "PATCH": id(s.patchEvent), "DELETE": id(s.deleteEvent)})
			add(p+"/events/{id}/instances", handlers{"GET": id(s.listInstances)})
			add(p+"/events/{id}/cancel", handlers{"POST": id(s.cancelEvent)})
			for _, action := range []string{"accept", "tentativelyAccept", "decline"} {
				add(p+"/events/{id}/"+action, handlers{"POST": id(s.respond)})
			}
			add(p+"/calendarView", handlers{"GET": s.calendarView})
			add(p+"/calendarView/delta", handlers{"GET": s.delta})
			add(p+"/calendarView/delta()", handlers{"GET": s.delta})
		}
	}
	add("/subscriptions", handlers{"POST": s.postSubscription})
	add("/subscriptions/{id}", handlers{"GET": id(s.getSubscription), "PATCH": id(s.patchSubscription), "DELETE": id(s.deleteSubscription)})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c := r.Context().Value(gctxKey{}).(*gctx)
		c.r = r
		s.unhandled(c)
	})
	return mux
}

var pathValueRe = regexp.MustCompile(`\{[a-z]+\}`)

// route serves one authenticated, admitted Graph request through the route
// table and returns the endpoint name for the request log.
func (s *Sim) route(c *gctx) string {
	r := c.r.WithContext(context.WithValue(c.r.Context(), gctxKey{}, c))
	s.routes.ServeHTTP(c.w, r)
	if c.endpoint == "" {
		return c.r.Method + " " + c.r.URL.Path
	}
	return c.endpoint
}

// checkPathValues answers for a {user} that is not the caller (403) and a
// {cal} that is not the caller's calendar.
func (s *Sim) checkPathValues(c *gctx) bool {
	if who := c.r.PathValue("user"); who != "" {
		s.mu.Lock()
		same := strings.EqualFold(who, c.u.UPN) || who == c.u.id
		s.mu.Unlock()
		if !same {
			c.fail(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
			return false
		}
	}
	if cal := c.r.PathValue("cal"); cal != "" {
		return s.checkCalendar(c, cal)
	}
	return true
}

// unhandled is the catch-all: Graph's 400 for a segment it does not know,
// naming the first segment the table could not place.
func (s *Sim) unhandled(c *gctx) {
	segs := strings.Split(strings.Trim(strings.TrimPrefix(c.r.URL.Path, "/v1.0"), "/"), "/")
	seg := segs[len(segs)-1]
	known := map[string]bool{"me": true, "users": true, "calendar": true, "calendars": true, "events": true,
		"calendarView": true, "instances": true, "cancel": true, "accept": true, "tentativelyAccept": true, "decline": true, "delta": true, "delta()": true}
	for i, x := range segs {
		if !known[x] && !(i > 0 && (segs[i-1] == "users" || segs[i-1] == "calendars" || segs[i-1] == "events")) {
			seg = x
			break
		}
	}
	s.unimplemented(c.r, "unknown segment "+seg)
	c.fail(400, "BadRequest", fmt.Sprintf("Resource not found for the segment '%s'.", seg))
}

func (s *Sim) methodNotAllowed(c *gctx, endpoint string) {
	s.unimplemented(c.r, "method not allowed on "+endpoint)
	c.fail(405, "Request_BadRequest", fmt.Sprintf("The HTTP method '%s' is not supported on '%s'.", c.r.Method, endpoint))
}
