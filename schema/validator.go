package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/oro-msync/oro-msync/schema/jsonscan"
)

// Validator checks the params of calls against the methods of one OpenRPC
// document (with the checker of check.go). The document is decoded and each
// method's schemas are linted and compiled on first use, so a process that
// only answers rpc.discover never pays for it. It is safe for concurrent use.
type Validator struct {
	doc     []byte
	methods map[string]method

	mu       sync.Mutex // guards checker and compiled
	checker  *checker
	compiled map[string]*node // the params schema of each method checked so far
}

type method struct {
	index  int
	byName bool // paramStructure is "by-name": positional params are refused
	params []param
}

type param struct {
	Name     string          `json:"name"`
	Required bool            `json:"required"`
	Schema   json.RawMessage `json:"schema"`
	Ref      string          `json:"$ref"`
	maxItems int             // of an array param; -1 when it has none
}

// NewValidator reads the methods of an OpenRPC document. Each param must be
// an inline content descriptor (not a $ref) with a schema.
func NewValidator(doc []byte) (*Validator, error) {
	var d struct {
		Methods []struct {
			Name           string  `json:"name"`
			ParamStructure string  `json:"paramStructure"`
			Params         []param `json:"params"`
		} `json:"methods"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("schema: reading the OpenRPC document: %w", err)
	}
	v := &Validator{doc: doc, methods: map[string]method{}, compiled: map[string]*node{}}
	for i, m := range d.Methods {
		if _, dup := v.methods[m.Name]; dup {
			return nil, fmt.Errorf("schema: method %s is described twice", m.Name)
		}
		for j, p := range m.Params {
			if p.Ref != "" || p.Name == "" || len(p.Schema) == 0 {
				return nil, fmt.Errorf("schema: method %s: every param must be an inline content descriptor with a name and a schema", m.Name)
			}
			var lim struct {
				MaxItems *int `json:"maxItems"`
			}
			m.Params[j].maxItems = -1
			if json.Unmarshal(p.Schema, &lim) == nil && lim.MaxItems != nil {
				m.Params[j].maxItems = *lim.MaxItems
			}
		}
		v.methods[m.Name] = method{index: i, byName: m.ParamStructure == "by-name", params: m.Params}
	}
	return v, nil
}

// Has reports whether the document describes the method.
func (v *Validator) Has(name string) bool {
	_, ok := v.methods[name]
	return ok
}

// ParamError is a params validation failure: Field is the dotted path of the
// offending value from the params object ("cascade.user.direction"; "" for
// the params as a whole), Message says what is wrong with it.
type ParamError struct {
	Field   string
	Message string
}

func (e *ParamError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// Check validates the params of a call to a described method and returns
// them as a JSON object: positional params (allowed unless the method's
// paramStructure is "by-name") are named after their descriptors, and
// missing params become {}. A failure is a *ParamError.
func (v *Validator) Check(name string, params json.RawMessage) (json.RawMessage, error) {
	m, ok := v.methods[name]
	if !ok {
		return nil, fmt.Errorf("schema: method %s is not described", name)
	}
	params = bytes.TrimSpace(params)
	switch {
	case len(params) == 0 || string(params) == "null":
		params = json.RawMessage("{}")
	case params[0] == '[':
		if m.byName {
			return nil, &ParamError{Message: "params must be an object (by name)"}
		}
		var list []json.RawMessage
		if err := json.Unmarshal(params, &list); err != nil {
			return nil, &ParamError{Message: "params: " + err.Error()}
		}
		if len(list) > len(m.params) {
			return nil, &ParamError{Message: fmt.Sprintf("at most %d positional params", len(m.params))}
		}
		obj := map[string]json.RawMessage{}
		for i, p := range list {
			obj[m.params[i].Name] = p
		}
		params, _ = json.Marshal(obj)
	case params[0] != '{':
		return nil, &ParamError{Message: "params must be an object or an array"}
	}
	if len(m.params) == 0 {
		return noMembers(name, params)
	}
	if err := m.precheck(params); err != nil {
		return nil, err
	}
	sch, err := v.paramsSchema(name, m)
	if err != nil {
		return nil, err
	}
	inst, err := decode(params)
	if err != nil {
		return nil, &ParamError{Message: "params: " + err.Error()}
	}
	if f := new(walk).check(sch, inst); f != nil {
		return nil, &ParamError{Field: FieldPath(f.path), Message: f.msg}
	}
	return params, nil
}

// CheckNoParams checks the params of a call to a method that takes none,
// as Check would, without a Validator: absent params, null, [] and an
// empty object pass (as {}). It lets rpc.discover, often the only call of
// a process, skip reading the document's methods.
func CheckNoParams(name string, params json.RawMessage) (json.RawMessage, error) {
	params = bytes.TrimSpace(params)
	switch {
	case len(params) == 0 || string(params) == "null":
		return json.RawMessage("{}"), nil
	case params[0] == '[':
		n := 0
		jsonscan.Elements(params, func([]byte) bool { n++; return false })
		if n > 0 {
			return nil, &ParamError{Message: "at most 0 positional params"}
		}
		return json.RawMessage("{}"), nil
	case params[0] != '{':
		return nil, &ParamError{Message: "params must be an object or an array"}
	}
	return noMembers(name, params)
}

// noMembers accepts an empty params object: the only valid params of a
// method that takes none.
func noMembers(name string, params json.RawMessage) (json.RawMessage, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(params, &members); err != nil {
		return nil, &ParamError{Message: "params: " + err.Error()}
	}
	for k := range members {
		return nil, &ParamError{Field: k, Message: "unknown member (" + name + " takes no params)"}
	}
	return params, nil
}

// The most JSON values and the deepest nesting the params of one call may
// have. The largest valid call, a sync.run of 50,000 events with every
// member and a link (about 22 values each), holds 1.1 million values nested
// four deep.
const (
	MaxParamValues = 2_000_000
	MaxParamDepth  = 32
)

// measure refuses params over MaxParamValues or MaxParamDepth for the cost
// of a scan, before they are decoded: the checker decodes them into generic
// values, which costs about 90 bytes for a value of 3 bytes ([] in an array), so
// one event whose title is 20 million [] cost gigabytes.
func measure(params []byte) error {
	switch s := jsonscan.Measure(params, MaxParamValues, MaxParamDepth); {
	case s.Values > MaxParamValues:
		return &ParamError{Message: fmt.Sprintf("params hold more than %d JSON values; send fewer events per call", MaxParamValues)}
	case s.Depth > MaxParamDepth:
		return &ParamError{Message: fmt.Sprintf("params nest deeper than %d levels", MaxParamDepth)}
	}
	return nil
}

// countItems refuses an array param over its maxItems by counting its
// items in the raw params, before they are decoded: decoding costs a
// hundred bytes and more per item, so a call with millions of empty items
// must be refused for the cost of a scan.
func (m method) countItems(params []byte) error {
	var err error
	jsonscan.Members(params, func(k, v []byte) bool {
		name := jsonscan.Key(k)
		for _, p := range m.params {
			if p.Name != name || p.maxItems < 0 {
				continue
			}
			n := 0
			jsonscan.Elements(v, func([]byte) bool { n++; return n <= p.maxItems })
			if n > p.maxItems {
				err = tooManyItems(p)
				return false
			}
		}
		return true
	})
	return err
}

// tooManyItems is the error for an array param over its maxItems.
func tooManyItems(p param) error {
	return &ParamError{Field: p.Name, Message: fmt.Sprintf("maxItems: more than %d", p.maxItems)}
}

// paramsSchema builds, once per method, the schema of its params object:
// each descriptor's schema under its name, the required ones required,
// nothing else allowed; refuses schemas the checker cannot evaluate, and
// compiles the rest.
func (v *Validator) paramsSchema(name string, m method) (*node, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if s, ok := v.compiled[name]; ok {
		return s, nil
	}
	if v.checker == nil {
		dec := json.NewDecoder(bytes.NewReader(v.doc))
		dec.UseNumber()
		var root any
		if err := dec.Decode(&root); err != nil {
			return nil, fmt.Errorf("schema: reading the OpenRPC document: %w", err)
		}
		v.checker = &checker{root: root}
	}
	props := map[string]any{}
	required := []any{}
	for j, p := range m.params {
		props[p.Name] = map[string]any{"$ref": fmt.Sprintf("#/methods/%d/params/%d/schema", m.index, j)}
		if p.Required {
			required = append(required, p.Name)
		}
	}
	s := map[string]any{"type": "object", "properties": props, "required": required, "additionalProperties": false}
	if err := v.checker.lint(s, map[string]bool{}); err != nil {
		return nil, fmt.Errorf("schema: params of %s: %w", name, err)
	}
	n := v.checker.compile(s)
	v.compiled[name] = n
	return n, nil
}

// FieldPath writes a JSON location the way the engine names fields:
// members joined by dots, array items as [N] (events[3].start).
func FieldPath(path []string) string {
	var b strings.Builder
	for _, p := range path {
		if p != "" && strings.Trim(p, "0123456789") == "" {
			b.WriteString("[" + p + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}
