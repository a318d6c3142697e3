package rpc

import (
	"encoding"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/oro-msync/oro-msync/schema/jsonscan"
	calsync "github.com/oro-msync/oro-msync/sync"
)

// DecodeParams decodes a method's params into v (a pointer to a struct)
// with exact member names. encoding/json matches names without regard to
// case, so "ROUNDORODELETES" would fill RoundOroDeletes: a member that is
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
	if err := exactNames(params, reflect.TypeOf(v), ""); err != nil {
		return err
	}
	if err := json.Unmarshal(params, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return calsync.Invalid(te.Field, "%v", err)
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
func exactNames(raw []byte, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
		return nil
	}
	var err error
	switch t.Kind() {
	case reflect.Struct:
		fields := fieldsOf(t)
		jsonscan.Members(raw, func(k, v []byte) bool {
			name := jsonscan.Key(k)
			f, ok := fields[name]
			if !ok {
				err = unknownMember(fields, join(path, name), name)
				return false
			}
			err = exactNames(v, f, join(path, name))
			return err == nil
		})
	case reflect.Map:
		jsonscan.Members(raw, func(k, v []byte) bool {
			err = exactNames(v, t.Elem(), join(path, jsonscan.Key(k)))
			return err == nil
		})
	case reflect.Slice, reflect.Array:
		i := 0
		jsonscan.Elements(raw, func(v []byte) bool {
			err = exactNames(v, t.Elem(), path+"["+strconv.Itoa(i)+"]")
			i++
			return err == nil
		})
	}
	return err
}

func unknownMember(fields map[string]reflect.Type, field, name string) error {
	for f := range fields {
		if strings.EqualFold(f, name) {
			return calsync.Invalid(field, "unknown member; member names are case-sensitive: did you mean %q?", f)
		}
	}
	return calsync.Invalid(field, "unknown member")
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// fieldsCache maps a struct type to its JSON member names and their types.
var fieldsCache sync.Map // reflect.Type → map[string]reflect.Type

// fieldsOf lists the JSON members of a struct type, following embedded
// structs without a name the way encoding/json does.
func fieldsOf(t reflect.Type) map[string]reflect.Type {
	if f, ok := fieldsCache.Load(t); ok {
		return f.(map[string]reflect.Type)
	}
	fields := map[string]reflect.Type{}
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
				for n, ft := range fieldsOf(et) {
					if _, shadowed := fields[n]; !shadowed {
						fields[n] = ft
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
		fields[name] = f.Type
	}
	fieldsCache.Store(t, fields)
	return fields
}
