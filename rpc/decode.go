package rpc

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/oro-msync/oro-msync/schema/jsonscan"
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
// true for a non-empty array, whose replies go back together as one array;
// a batch of more than maxBatch members is refused as a whole, with one
// -32600, before any of it is decoded. Everything it returns that refers
// to msg is a sub-slice of msg: a message of tens of megabytes is not
// copied.
func decodeMessage(msg []byte, maxBatch int) (items []inbound, batch bool) {
	msg = bytes.TrimSpace(msg)
	if !json.Valid(msg) {
		return []inbound{{id: null, err: &protocolError{code: CodeParseError, msg: "Parse error: not valid JSON"}}}, false
	}
	if msg[0] != '[' {
		return []inbound{decodeOne(msg)}, false
	}
	n := 0
	jsonscan.Elements(msg, func([]byte) bool { n++; return n <= maxBatch })
	switch {
	case n == 0:
		return []inbound{{id: null, err: &protocolError{code: CodeInvalidRequest, msg: "Invalid Request: empty batch"}}}, false
	case n > maxBatch:
		return []inbound{{id: null, err: &protocolError{code: CodeInvalidRequest,
			msg: fmt.Sprintf("Invalid Request: a batch may hold at most %d requests; send the rest in another batch", maxBatch)}}}, false
	}
	items = make([]inbound, 0, n)
	jsonscan.Elements(msg, func(e []byte) bool { items = append(items, decodeOne(e)); return true })
	return items, true
}

// decodeOne checks one request object as the specification defines it.
// Member names are exact ("ID" is not "id"); of duplicate members the last
// counts, as in encoding/json.
func decodeOne(raw []byte) inbound {
	invalid := func(id json.RawMessage, why string) inbound {
		return inbound{id: id, err: &protocolError{code: CodeInvalidRequest, msg: "Invalid Request: " + why}}
	}
	m := map[string]json.RawMessage{}
	if !jsonscan.Members(raw, func(k, v []byte) bool {
		switch key := jsonscan.Key(k); key {
		case "jsonrpc", "id", "method", "params", "result", "error":
			m[key] = v
		}
		return true
	}) {
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
