package rpc

import (
	"bytes"
	"encoding/json"
)

// inbound is one element of a decoded message: a request or notification
// to run, a protocol error to answer, or a response to ignore (the sidecar
// sends no requests, so no response can be for it).
type inbound struct {
	method string
	id     json.RawMessage // exactly as sent; nil for a notification
	params json.RawMessage // nil when absent
	err    *protocolError  // answer this instead of running anything (id, or null)
	ignore bool
}

var null = json.RawMessage("null")

// decodeMessage splits one framed message into what to do with it. batch is
// true for a non-empty array, whose replies go back together as one array.
// Everything it returns that refers to msg is a sub-slice of msg.
func decodeMessage(msg []byte) (items []inbound, batch bool) {
	msg = bytes.TrimSpace(msg)
	if !json.Valid(msg) {
		return []inbound{{id: null, err: &protocolError{code: CodeParseError, msg: "Parse error: not valid JSON"}}}, false
	}
	if msg[0] != '[' {
		return []inbound{decodeOne(msg)}, false
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(msg, &elems); err != nil {
		// json.Valid said yes, so this cannot happen; answer as a parse error anyway.
		return []inbound{{id: null, err: &protocolError{code: CodeParseError, msg: "Parse error"}}}, false
	}
	if len(elems) == 0 {
		return []inbound{{id: null, err: &protocolError{code: CodeInvalidRequest, msg: "Invalid Request: empty batch"}}}, false
	}
	items = make([]inbound, len(elems))
	for i, e := range elems {
		items[i] = decodeOne(e)
	}
	return items, true
}

// decodeOne checks one request object as the specification defines it.
func decodeOne(raw json.RawMessage) inbound {
	invalid := func(id json.RawMessage, why string) inbound {
		return inbound{id: id, err: &protocolError{code: CodeInvalidRequest, msg: "Invalid Request: " + why}}
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return invalid(null, "not an object")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return invalid(null, "not an object")
	}
	id, hasID := m["id"]
	if hasID && !validID(id) {
		return invalid(null, "id must be a string, a number or null")
	}
	if !hasID {
		id = nil
	}
	replyTo := id
	if replyTo == nil {
		replyTo = null // an invalid request is answered even without an id
	}
	var version string
	if v, ok := m["jsonrpc"]; !ok || json.Unmarshal(v, &version) != nil || version != "2.0" {
		return invalid(replyTo, `jsonrpc must be "2.0"`)
	}
	rawMethod, hasMethod := m["method"]
	if !hasMethod {
		_, hasResult := m["result"]
		_, hasError := m["error"]
		if hasID && (hasResult || hasError) {
			return inbound{ignore: true}
		}
		return invalid(replyTo, "method is missing")
	}
	var method string
	if err := json.Unmarshal(rawMethod, &method); err != nil {
		return invalid(replyTo, "method must be a string")
	}
	params, hasParams := m["params"]
	if hasParams && (len(params) == 0 || (params[0] != '{' && params[0] != '[')) {
		return invalid(replyTo, "params must be an object or an array")
	}
	return inbound{method: method, id: id, params: params}
}

// validID reports whether raw (valid JSON) is an id the specification
// allows: a string, a number or null.
func validID(raw json.RawMessage) bool {
	if len(raw) == 0 {
		return false
	}
	switch c := raw[0]; {
	case c == '"', c == '-', c >= '0' && c <= '9':
		return true
	}
	return string(raw) == "null"
}

// idFromPrefix finds the id of a message that was too large to read whole,
// from its first bytes. It succeeds when "id" comes before any member too
// large to fit in the prefix (PHP's json_encode keeps the order the host
// wrote, and a host writes jsonrpc, id, method, params); otherwise the error
// reply goes to id null.
func idFromPrefix(prefix []byte) json.RawMessage {
	dec := json.NewDecoder(bytes.NewReader(prefix))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return null
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return null
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return null
		}
		if key == "id" {
			if validID(v) {
				return v
			}
			return null
		}
	}
	return null
}
