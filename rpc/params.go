package rpc

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"

	jsonv1 "github.com/go-json-experiment/json/v1"
	"github.com/oro-msync/oro-msync/schema"
	"github.com/oro-msync/oro-msync/schema/jsonscan"
	calsync "github.com/oro-msync/oro-msync/sync"
)

// DecodeParams decodes a method's params into v (a pointer to a struct)
// with exact member names, by encoding/json's rules on the json/v2 engine
// (go-json-experiment/json's v1 package: about half the CPU time and
// allocations, see BenchmarkDecodeSyncRunParams). encoding/json matches
// names without regard to case, so "ROUNDORODELETES" would fill RoundOroDeletes: a member that is
// not exactly the name of a field, at any depth, is refused before
// anything is decoded. Failures are invalid-input errors (-32602) naming
// the field, as events[3].link.remoteId.
//
// The OpenRPC document already refuses unknown members of what the host
// sends (additionalProperties: false); this keeps the Go side exact too,
// for methods it does not describe and for any object it fails to close.
func DecodeParams(params json.RawMessage, v any) error {
	if len(params) == 0 {
		params = json.RawMessage("{}")
	}
	if err := exactNames(params, reflect.TypeOf(v), reflect.ValueOf(v)); err != nil {
		return err.invalid()
	}
	if err := jsonv1.Unmarshal(params, v); err != nil {
		var te *jsonv1.UnmarshalTypeError
		if errors.As(err, &te) {
			// the decoder's path (events.1.allDay) named as the checker names it
			return calsync.Invalid(schema.FieldPath(strings.Split(te.Field, ".")), "%v", err)
		}
		return calsync.Invalid("", "%v", err)
	}
	return nil
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// exactNames walks the JSON value raw along the Go type t it will be
// decoded into and refuses member names that are not exactly a field's.
// Types that decode themselves (json.Unmarshaler) are left to themselves.
//
// v is where raw will be decoded when it is already there (the params
// struct and the fields it holds by value), invalid otherwise: a nil slice
// there is given room for the elements raw holds, so that encoding/json
// does not grow it by doubling (5,000 events of 336 bytes are copied
// about twice over otherwise).
func exactNames(raw []byte, t reflect.Type, v reflect.Value) *misnamed {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
		if v.IsValid() {
			if v.IsNil() {
				v = reflect.Value{}
			} else {
				v = v.Elem()
			}
		}
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
		return nil
	}
	var err *misnamed
	switch t.Kind() {
	case reflect.Struct:
		fields := fieldsOf(t)
		jsonscan.Members(raw, func(k, raw []byte) bool {
			f, ok := fields[keyOf(k)]
			if !ok {
				name := jsonscan.Key(k)
				err = &misnamed{name: name, fields: fields, path: []string{name}}
				return false
			}
			var fv reflect.Value
			if v.IsValid() {
				fv, _ = v.FieldByIndexErr(f.index) // invalid through a nil embedded pointer
			}
			if err = exactNames(raw, f.typ, fv); err != nil {
				err.path = append(err.path, jsonscan.Key(k))
			}
			return err == nil
		})
	case reflect.Map:
		jsonscan.Members(raw, func(k, raw []byte) bool {
			if err = exactNames(raw, t.Elem(), reflect.Value{}); err != nil {
				err.path = append(err.path, jsonscan.Key(k))
			}
			return err == nil
		})
	case reflect.Slice, reflect.Array:
		i := 0
		jsonscan.Elements(raw, func(raw []byte) bool {
			if err = exactNames(raw, t.Elem(), reflect.Value{}); err != nil {
				err.path = append(err.path, "["+strconv.Itoa(i)+"]")
			}
			i++
			return err == nil
		})
		if err == nil && i > 0 && t.Kind() == reflect.Slice && v.IsValid() && v.CanSet() && v.IsNil() {
			v.Set(reflect.MakeSlice(t, 0, i))
		}
	}
	return err
}

// keyOf is the name of a member by its raw key, quotes and escapes
// included: a key without escapes is looked up without a string of its
// own (the compiler does not allocate for m[string(b)]).
func keyOf(k []byte) string {
	if len(k) >= 2 && k[0] == '"' && bytes.IndexByte(k, '\\') < 0 {
		return string(k[1 : len(k)-1])
	}
	return jsonscan.Key(k)
}

// misnamed is a member whose name is not exactly a field's: name, among
// fields, at path (innermost first: each level adds its own on the way
// out, so that no path is built for the members that are right).
type misnamed struct {
	name   string
	fields map[string]field
	path   []string
}

// invalid is the invalid-input error naming the member's path, as
// events[3].link.remoteId.
func (m *misnamed) invalid() error {
	var b strings.Builder
	for i := len(m.path) - 1; i >= 0; i-- {
		if seg := m.path[i]; strings.HasPrefix(seg, "[") || b.Len() == 0 {
			b.WriteString(seg)
		} else {
			b.WriteString("." + seg)
		}
	}
	for f := range m.fields {
		if strings.EqualFold(f, m.name) {
			return calsync.Invalid(b.String(), "unknown member; member names are case-sensitive: did you mean %q?", f)
		}
	}
	return calsync.Invalid(b.String(), "unknown member")
}

// fieldsCache maps a struct type to its JSON members.
var fieldsCache sync.Map // reflect.Type → map[string]field

// A field is a JSON member of a struct type: its Go type and where it is
// (reflect.Value.FieldByIndex).
type field struct {
	typ   reflect.Type
	index []int
}

// fieldsOf lists the JSON members of a struct type, following embedded
// structs without a name the way encoding/json does.
func fieldsOf(t reflect.Type) map[string]field {
	if f, ok := fieldsCache.Load(t); ok {
		return f.(map[string]field)
	}
	fields := map[string]field{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				for n, ef := range fieldsOf(et) {
					if _, shadowed := fields[n]; !shadowed {
						fields[n] = field{typ: ef.typ, index: append([]int{i}, ef.index...)}
					}
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = field{typ: f.Type, index: []int{i}}
	}
	fieldsCache.Store(t, fields)
	return fields
}
