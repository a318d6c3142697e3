package schema

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The sidecar validates params with this small JSON Schema (draft-07)
// checker rather than with santhosh-tekuri/jsonschema, whose package
// initialisation alone (compiling every draft's meta-schema) costs more
// than the rest of the sidecar's start-up. It supports the keywords listed
// in supported; a schema using any other keyword is refused with an error
// when its method is first checked (the tests check every method), so a
// new keyword is added here on purpose, never silently ignored. The tests
// compare its verdicts with santhosh-tekuri/jsonschema's.

// supported lists the keywords the checker implements or, for annotations,
// deliberately ignores. Of the formats, date-time is asserted (as the
// library does for draft-07); others are annotations.
var supported = map[string]bool{
	"$ref": true, "type": true, "enum": true, "const": true,
	"properties": true, "required": true, "additionalProperties": true,
	"minimum": true, "maximum": true, "minLength": true, "maxLength": true, "pattern": true,
	"items": true, "minItems": true, "maxItems": true, "oneOf": true, "allOf": true,
	"description": true, "title": true, "default": true, "examples": true, "format": true, "$comment": true,
}

// checker lints and compiles the schemas of one document. Its methods are
// called with the Validator's mu held; the nodes it compiles are only read.
type checker struct {
	root    any                       // the whole OpenRPC document, for $ref
	regexps map[string]*regexp.Regexp // the patterns compiled so far
	targets map[string]*node          // the compiled targets of $refs
}

// node is a schema compiled for checking: its keywords looked up once,
// when its method is first checked, not at every value (a sync.run checks
// 5,000 events against the same schemas, and looking up each keyword of a
// schema in its map was a third of the check). Absent keywords are nil.
type node struct {
	boolean  *bool // a boolean schema's value; nil for an object schema
	ref      *node // the target of $ref, which replaces its siblings
	refErr   error // a $ref that does not resolve
	typed    bool  // type is present: the value must be of one of types
	types    []string
	enum     []any
	hasEnum  bool
	constant any
	hasConst bool

	minimum, maximum, minLength, maxLength, minItems, maxItems *json.Number

	dateTime bool // format is date-time
	pattern  *string
	re       *regexp.Regexp // pattern compiled, or reErr
	reErr    error

	items      *node
	required   []string
	properties map[string]*node
	additional *node // additionalProperties, unless it is false:
	closed     bool  // additionalProperties is false
	allOf      []*node
	oneOf      []*node
}

// compile compiles the schema s (linted: every keyword supported, every
// $ref resolves). A $ref compiles to a node that refers to its target's,
// compiled once and shared, which lets a schema refer to itself
// (SyncEvent's exceptions).
func (c *checker) compile(s any) *node {
	if b, ok := s.(bool); ok {
		return &node{boolean: &b}
	}
	m := s.(map[string]any)
	if ref, ok := m["$ref"].(string); ok { // draft-07: $ref replaces its siblings
		if n, ok := c.targets[ref]; ok {
			return n
		}
		t, err := c.resolve(ref)
		if err != nil {
			return &node{refErr: err}
		}
		if c.targets == nil {
			c.targets = map[string]*node{}
		}
		n := new(node) // its ref is set last: the target may refer back to it
		c.targets[ref] = n
		n.ref = c.compile(t)
		return n
	}
	n := new(node)
	if t, ok := m["type"]; ok {
		n.typed = true
		switch t := t.(type) {
		case string:
			n.types = []string{t}
		case []any:
			for _, x := range t {
				n.types = append(n.types, x.(string))
			}
		}
	}
	n.enum, n.hasEnum = m["enum"].([]any)
	n.constant, n.hasConst = m["const"]
	for _, l := range []struct {
		name string
		to   **json.Number
	}{{"minimum", &n.minimum}, {"maximum", &n.maximum}, {"minLength", &n.minLength}, {"maxLength", &n.maxLength}, {"minItems", &n.minItems}, {"maxItems", &n.maxItems}} {
		if lim, ok := m[l.name].(json.Number); ok {
			*l.to = &lim
		}
	}
	if f, _ := m["format"].(string); f == "date-time" {
		n.dateTime = true
	}
	if p, ok := m["pattern"].(string); ok {
		n.pattern = &p
		n.re, n.reErr = c.regexp(p)
	}
	if items, ok := m["items"]; ok {
		n.items = c.compile(items)
	}
	if req, ok := m["required"].([]any); ok {
		for _, r := range req {
			n.required = append(n.required, r.(string))
		}
	}
	if props, ok := m["properties"].(map[string]any); ok {
		n.properties = make(map[string]*node, len(props))
		for k, p := range props {
			n.properties[k] = c.compile(p)
		}
	}
	if ap, ok := m["additionalProperties"]; ok {
		if ap == false {
			n.closed = true
		} else {
			n.additional = c.compile(ap)
		}
	}
	if all, ok := m["allOf"].([]any); ok {
		for _, s := range all {
			n.allOf = append(n.allOf, c.compile(s))
		}
	}
	if one, ok := m["oneOf"].([]any); ok {
		for _, s := range one {
			n.oneOf = append(n.oneOf, c.compile(s))
		}
	}
	return n
}

// fail is a validation failure at a path of the instance.
type fail struct {
	path []string
	msg  string
	null bool // the failure of a {"type":"null"} alternative
}

// walk is one check of an instance. Its steps locate the value being
// checked: pushed and popped as the walk descends, and written out as a
// path only for a failure, so that checking valid params costs no path
// (nor an Itoa per array item).
type walk struct {
	at []step
}

// step is an object member (index -1) or an array item.
type step struct {
	key   string
	index int
}

// enter pushes a step and returns the number of steps to go back to.
func (w *walk) enter(key string, index int) int {
	w.at = append(w.at, step{key, index})
	return len(w.at) - 1
}

// path is the members and item indexes from the params object to the value
// being checked.
func (w *walk) path() []string {
	p := make([]string, len(w.at))
	for i, s := range w.at {
		if p[i] = s.key; s.index >= 0 {
			p[i] = strconv.Itoa(s.index)
		}
	}
	return p
}

// fail is a failure of the value being checked.
func (w *walk) fail(msg string) *fail { return &fail{path: w.path(), msg: msg} }

// lint refuses schemas that use keywords the checker does not know.
func (c *checker) lint(s any, seen map[string]bool) error {
	m, ok := s.(map[string]any)
	if !ok {
		if _, isBool := s.(bool); isBool {
			return nil
		}
		return fmt.Errorf("schema is not an object: %v", s)
	}
	for k, v := range m {
		if !supported[k] {
			return fmt.Errorf("keyword %q is not supported by the params checker (schema/check.go)", k)
		}
		switch k {
		case "$ref":
			ref, _ := v.(string)
			if seen[ref] {
				continue
			}
			seen[ref] = true
			t, err := c.resolve(ref)
			if err != nil {
				return err
			}
			if err := c.lint(t, seen); err != nil {
				return err
			}
		case "properties":
			for _, p := range v.(map[string]any) {
				if err := c.lint(p, seen); err != nil {
					return err
				}
			}
		case "additionalProperties", "items":
			if err := c.lint(v, seen); err != nil {
				return err
			}
		case "oneOf", "allOf":
			for _, p := range v.([]any) {
				if err := c.lint(p, seen); err != nil {
					return err
				}
			}
		case "pattern":
			if _, err := c.regexp(v.(string)); err != nil {
				return err
			}
		}
	}
	return nil
}

// resolve follows a local reference ("#/components/schemas/Name").
func (c *checker) resolve(ref string) (any, error) {
	if !strings.HasPrefix(ref, "#/") {
		return nil, fmt.Errorf("$ref %q: only references inside the document are supported", ref)
	}
	var cur any = c.root
	for rest, more := ref[2:], true; more; {
		var tok string
		tok, rest, more = strings.Cut(rest, "/")
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch n := cur.(type) {
		case map[string]any:
			cur = n[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(n) {
				return nil, fmt.Errorf("$ref %q does not resolve", ref)
			}
			cur = n[i]
		default:
			cur = nil
		}
		if cur == nil {
			return nil, fmt.Errorf("$ref %q does not resolve", ref)
		}
	}
	return cur, nil
}

func (c *checker) regexp(p string) (*regexp.Regexp, error) {
	if re, ok := c.regexps[p]; ok {
		return re, nil
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, fmt.Errorf("pattern %q: %v", p, err)
	}
	if c.regexps == nil {
		c.regexps = map[string]*regexp.Regexp{}
	}
	c.regexps[p] = re
	return re, nil
}

// check validates inst (decoded with UseNumber), the value at w's steps,
// against n; nil means valid.
func (w *walk) check(n *node, inst any) *fail {
	if n.boolean != nil {
		if *n.boolean {
			return nil
		}
		return w.fail("not allowed")
	}
	if n.ref != nil {
		return w.check(n.ref, inst)
	}
	if n.refErr != nil {
		return w.fail(n.refErr.Error())
	}
	if n.typed && !slices.ContainsFunc(n.types, func(w string) bool { return hasType(inst, w) }) {
		return &fail{path: w.path(), msg: fmt.Sprintf("got %s, want %s", typeOf(inst), strings.Join(n.types, " or ")), null: len(n.types) == 1 && n.types[0] == "null"}
	}
	if n.hasEnum && !slices.ContainsFunc(n.enum, func(x any) bool { return equal(x, inst) }) {
		var opts []string
		for _, x := range n.enum {
			b, _ := json.Marshal(x)
			opts = append(opts, strings.ReplaceAll(string(b), `"`, "'"))
		}
		return w.fail("value must be one of " + strings.Join(opts, ", "))
	}
	if n.hasConst && !equal(n.constant, inst) {
		b, _ := json.Marshal(n.constant)
		return w.fail("value must be " + string(b))
	}
	switch v := inst.(type) {
	case json.Number:
		if lim := n.minimum; lim != nil && compare(v, *lim) < 0 {
			return w.fail(fmt.Sprintf("minimum: got %s, want %s", v, *lim))
		}
		if lim := n.maximum; lim != nil && compare(v, *lim) > 0 {
			return w.fail(fmt.Sprintf("maximum: got %s, want %s", v, *lim))
		}
	case string:
		if n.minLength != nil || n.maxLength != nil {
			c := utf8.RuneCountInString(v)
			if lim := n.minLength; lim != nil && int64(c) < intOf(*lim) {
				return w.fail(fmt.Sprintf("minLength: got %d, want %s", c, *lim))
			}
			if lim := n.maxLength; lim != nil && int64(c) > intOf(*lim) {
				return w.fail(fmt.Sprintf("maxLength: got %d, want %s", c, *lim))
			}
		}
		if n.dateTime && !isDateTime(v) {
			return w.fail("not a date-time (RFC 3339, e.g. 2026-03-05T09:00:00Z)")
		}
		if n.pattern != nil && (n.reErr != nil || !n.re.MatchString(v)) {
			return w.fail(fmt.Sprintf("does not match pattern %q", *n.pattern))
		}
	case []any:
		if lim := n.minItems; lim != nil && int64(len(v)) < intOf(*lim) {
			return w.fail(fmt.Sprintf("minItems: got %d, want %s", len(v), *lim))
		}
		if lim := n.maxItems; lim != nil && int64(len(v)) > intOf(*lim) {
			return w.fail(fmt.Sprintf("maxItems: got %d, want %s", len(v), *lim))
		}
		if n.items != nil {
			for i, x := range v {
				back := w.enter("", i)
				f := w.check(n.items, x)
				if w.at = w.at[:back]; f != nil {
					return f
				}
			}
		}
	case map[string]any:
		for _, r := range n.required {
			if _, ok := v[r]; !ok {
				return &fail{path: append(w.path(), r), msg: "missing, and required"}
			}
		}
		// Report the same failure every time: that of the first failing
		// member in the order of their names. The members are checked in
		// the map's order, without sorting their names, and those named
		// after a failing one are skipped.
		var first *fail
		var firstKey string
		for k, x := range v {
			if first != nil && k > firstKey {
				continue
			}
			var f *fail
			back := w.enter(k, -1)
			if p, ok := n.properties[k]; ok {
				f = w.check(p, x)
			} else if n.closed {
				f = w.fail("unknown member")
			} else if n.additional != nil {
				f = w.check(n.additional, x)
			}
			if w.at = w.at[:back]; f != nil {
				first, firstKey = f, k
			}
		}
		if first != nil {
			return first
		}
	}
	for _, s := range n.allOf {
		if f := w.check(s, inst); f != nil {
			return f
		}
	}
	if n.oneOf != nil {
		var best *fail
		matched := 0
		for _, s := range n.oneOf {
			f := w.check(s, inst)
			if f == nil {
				matched++
				continue
			}
			// the most telling failure: not the "or null" alternative, then the deepest
			if best == nil || (best.null && !f.null) || (best.null == f.null && len(f.path) > len(best.path)) {
				best = f
			}
		}
		switch {
		case matched == 0:
			return best
		case matched > 1:
			return w.fail("matches more than one alternative of oneOf")
		}
	}
	return nil
}

func hasType(v any, t string) bool {
	switch t {
	case "integer":
		n, ok := v.(json.Number)
		if _, small := smallInt(n); small {
			return true
		}
		return ok && rat(n).IsInt()
	case "number":
		_, ok := v.(json.Number)
		return ok
	}
	return typeOf(v) == t
}

func typeOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// rat is a number's exact value. Exponents beyond ±400 are clamped first,
// so that a hostile 1e999999999 cannot make big.Rat build a giant number.
func rat(n json.Number) *big.Rat {
	s := string(n)
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		if e, err := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+")); err != nil || e > 400 || e < -400 {
			f, _ := strconv.ParseFloat(s, 64)
			switch {
			case f > 0:
				s = "1e400"
			case f < 0:
				s = "-1e400"
			default:
				s = "0"
			}
		}
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return new(big.Rat)
	}
	return r
}

// compare compares numbers by value: as int64s when both are plain
// integers of at most 18 digits, as the params' numbers are, else exactly,
// as rationals.
func compare(a, b json.Number) int {
	if x, ok := smallInt(a); ok {
		if y, ok := smallInt(b); ok {
			return cmp.Compare(x, y)
		}
	}
	return rat(a).Cmp(rat(b))
}

// smallInt is the value of n if it is a plain integer (-?[0-9]+, no
// fraction or exponent) of at most 18 digits, which an int64 holds.
func smallInt(n json.Number) (int64, bool) {
	s := string(n)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	if len(s) == 0 || len(s) > 18 {
		return 0, false
	}
	var x int64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		x = x*10 + int64(s[i]-'0')
	}
	if neg {
		x = -x
	}
	return x, true
}

func intOf(n json.Number) int64 {
	i, _ := n.Int64()
	return i
}

// equal compares JSON values, numbers by value.
func equal(a, b any) bool {
	switch a := a.(type) {
	case json.Number:
		b, ok := b.(json.Number)
		return ok && compare(a, b) == 0
	case []any:
		b, ok := b.([]any)
		return ok && slices.EqualFunc(a, b, equal)
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, x := range a {
			if y, ok := b[k]; !ok || !equal(x, y) {
				return false
			}
		}
		return true
	}
	return a == b
}

// isDateTime reports whether s is an RFC 3339 date-time. Leap seconds
// (:60) are refused; no client sends them.
func isDateTime(s string) bool {
	if !dateTimeShaped(s) {
		return false
	}
	_, err := time.Parse(time.RFC3339Nano, strings.ToUpper(s))
	return err == nil
}

// dateTimeShaped reports whether s is shaped as RFC 3339 says, as the
// regular expression
//
//	^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$
//
// matches (the tests compare them), by hand: a sync.run has a date-time in
// every event, and the expression took longer than the rest of the event.
func dateTimeShaped(s string) bool {
	const date = "0000-00-00T00:00:00" // 0 is any digit, T either case
	if len(s) < len(date) {
		return false
	}
	for i := range len(date) {
		switch c := s[i]; date[i] {
		case '0':
			if !isDigit(c) {
				return false
			}
		case 'T':
			if c != 'T' && c != 't' {
				return false
			}
		default:
			if c != date[i] {
				return false
			}
		}
	}
	s = s[len(date):]
	if strings.HasPrefix(s, ".") {
		n := 1
		for n < len(s) && isDigit(s[n]) {
			n++
		}
		if n == 1 {
			return false
		}
		s = s[n:]
	}
	if s == "Z" || s == "z" {
		return true
	}
	return len(s) == 6 && (s[0] == '+' || s[0] == '-') && isDigit(s[1]) && isDigit(s[2]) && s[3] == ':' && isDigit(s[4]) && isDigit(s[5])
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
