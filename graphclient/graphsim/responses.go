package graphsim

import (
	"encoding/json"
	"net/http"
	"strings"
)

// actionBody reads the JSON body of an event action (comment,
// sendResponse); an empty body is an empty object. Parameter names are
// lower-cased: msgraph-sdk-go v1.89 sends action parameters capitalised
// ({"SendResponse":false}), and Graph accepts that.
func (c *gctx) actionBody() (map[string]any, bool) {
	if len(strings.TrimSpace(string(c.body))) == 0 {
		return map[string]any{}, true
	}
	var m map[string]any
	if err := json.Unmarshal(c.body, &m); err != nil || m == nil {
		c.fail(400, "BadRequest", "Empty Payload. JSON content expected.")
		return nil, false
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out, true
}

// cancelEvent serves POST /events/{id}/cancel: the organizer cancels a
// meeting, or one occurrence of it, with a message to every attendee; an
// attendee gets 400 (semantics §1.5, Stop-MgUserEvent).
func (s *Sim) cancelEvent(c *gctx, id string) {
	if !c.checkQuery() || !c.need(writeCal...) {
		return
	}
	if _, ok := c.actionBody(); !ok {
		return
	}
	in, src, ok := s.lockMeeting(c, id)
	if !ok {
		return
	}
	if !src.isOrg {
		s.mu.Unlock()
		c.fail(400, "ErrorInvalidRequest", "Your request can't be completed. You need to be an organizer to cancel a meeting.")
		return
	}
	s.deleteInstance(c.u, in, "graph")
	s.mu.Unlock()
	c.w.WriteHeader(http.StatusAccepted)
}

// respond serves POST /events/{id}/accept, tentativelyAccept and decline:
// 202, and a response to the organizer unless sendResponse is false
// (semantics §1.5, learn event-decline).
func (s *Sim) respond(c *gctx, id string) {
	if !c.checkQuery() || !c.need(writeCal...) {
		return
	}
	body, ok := c.actionBody()
	if !ok {
		return
	}
	send := true
	if v, present := body["sendresponse"]; present {
		b, isBool := v.(bool)
		if !isBool {
			c.fail(400, "RequestBodyRead", "Property 'sendResponse' must be a boolean.")
			return
		}
		send = b
	}
	if _, proposes := body["proposednewtime"]; proposes && !send {
		c.fail(400, "ErrorInvalidRequest", "proposedNewTime requires sendResponse to be true.")
		return
	}
	_, src, ok := s.lockMeeting(c, id)
	if !ok {
		return
	}
	if src.isOrg {
		s.mu.Unlock()
		c.fail(400, "ErrorInvalidRequest", "Your request can't be completed. You can't respond to a meeting you organized.")
		return
	}
	if send {
		ea, _ := src.organizer["emailAddress"].(map[string]any)
		if addr, _ := ea["address"].(string); addr != "" {
			action := c.r.URL.Path[strings.LastIndex(c.r.URL.Path, "/")+1:]
			s.sendMail(c.u, src, action, []string{strings.ToLower(addr)}, "graph")
		}
	}
	s.mu.Unlock()
	c.w.WriteHeader(http.StatusAccepted)
}

// lockMeeting takes the lock and resolves id for a meeting action: the
// instance and the event that holds its meeting data (the master for an
// occurrence). On false the lock is released and the answer written.
func (s *Sim) lockMeeting(c *gctx, id string) (instance, *event, bool) {
	s.mu.Lock()
	in, ok := s.resolve(c, id)
	if !ok {
		return instance{}, nil, false
	}
	if in.ev != nil {
		return in, in.ev, true
	}
	return in, in.master, true
}
