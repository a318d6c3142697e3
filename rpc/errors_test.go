package rpc

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oro-msync/oro-msync/schema"
	calsync "github.com/oro-msync/oro-msync/sync"
)

// kindConstants lists the Kind constants declared in sync/errors.go, so a
// kind added there without a code here fails this test.
func kindConstants(t *testing.T) []calsync.Kind {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../sync/errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []calsync.Kind
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || vs.Type == nil || len(vs.Values) != 1 {
			return true
		}
		if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "Kind" {
			if lit, ok := vs.Values[0].(*ast.BasicLit); ok {
				s, _ := strconv.Unquote(lit.Value)
				kinds = append(kinds, calsync.Kind(s))
			}
		}
		return true
	})
	if len(kinds) < 6 {
		t.Fatalf("found only %d Kind constants in sync/errors.go", len(kinds))
	}
	return kinds
}

// The code table, the kinds of sync/errors.go and the schema's
// x-error-kinds and ErrorData enum must all agree.
func TestKindTableMatchesSchema(t *testing.T) {
	var doc struct {
		Kinds []struct {
			Kind      calsync.Kind `json:"kind"`
			Code      int64        `json:"code"`
			Retryable bool         `json:"retryable"`
		} `json:"x-error-kinds"`
		Components struct {
			Schemas struct {
				ErrorData struct {
					Properties struct {
						Kind struct {
							Enum []calsync.Kind `json:"enum"`
						} `json:"kind"`
					} `json:"properties"`
				} `json:"ErrorData"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(schema.OpenRPC, &doc); err != nil {
		t.Fatal(err)
	}
	documented := map[calsync.Kind]bool{}
	for _, k := range doc.Kinds {
		documented[k.Kind] = true
		if code, ok := kindCodes[k.Kind]; !ok || code != k.Code {
			t.Errorf("x-error-kinds says %s is %d; the code table says %d (present: %v)", k.Kind, k.Code, code, ok)
		}
		if k.Kind.Retryable() != k.Retryable {
			t.Errorf("x-error-kinds says %s retryable=%v; calsync says %v", k.Kind, k.Retryable, k.Kind.Retryable())
		}
	}
	enum := map[calsync.Kind]bool{}
	for _, k := range doc.Components.Schemas.ErrorData.Properties.Kind.Enum {
		enum[k] = true
	}
	codes := map[int64]calsync.Kind{}
	for _, k := range kindConstants(t) {
		code, ok := kindCodes[k]
		if !ok {
			t.Errorf("kind %s has no JSON-RPC code", k)
		}
		if other, dup := codes[code]; dup {
			t.Errorf("kinds %s and %s share code %d", k, other, code)
		}
		codes[code] = k
		if !documented[k] || !enum[k] {
			t.Errorf("kind %s is missing from the schema (x-error-kinds: %v, ErrorData enum: %v)", k, documented[k], enum[k])
		}
		if code != CodeInvalidParams && code != CodeInternalError && code != CodeRequestCancelled && (code > -32000 || code < -32099) {
			t.Errorf("kind %s: application code %d is outside -32099..-32000", k, code)
		}
	}
	if len(kindCodes) != len(codes) {
		t.Errorf("the code table has %d kinds, sync/errors.go declares %d", len(kindCodes), len(codes))
	}
}

func TestErrorObject(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"invalid input names the field", calsync.Invalid("cascade.user.direction", "must be one of x"),
			`{"code":-32602,"message":"cascade.user.direction: must be one of x","data":{"kind":"invalid_input","retryable":false,"field":"cascade.user.direction"}}`},
		{"throttled carries retryAfterMs", &calsync.Error{Kind: calsync.KindThrottled, Op: "graph.delta", Message: "slow down", RetryAfter: 1500 * time.Millisecond, Code: "TooManyRequests"},
			`{"code":-32003,"message":"slow down","data":{"kind":"throttled","retryable":true,"retryAfterMs":1500,"op":"graph.delta","upstreamCode":"TooManyRequests"}}`},
		{"plain Go errors are internal and their text stays in the log", errTest("secret token abc"),
			`{"code":-32603,"message":"internal error","data":{"kind":"internal","retryable":false}}`},
		{"unknown kinds are internal", &calsync.Error{Kind: "brand_new", Message: "x"},
			`{"code":-32603,"message":"internal error","data":{"kind":"internal","retryable":false}}`},
		{"a transport failure gives its cause in data, not in upstreamCode", &calsync.Error{Kind: calsync.KindUnavailable, Op: "graph.me", Message: "graph.example refused the connection", Cause: "connection_refused"},
			`{"code":-32004,"message":"graph.example refused the connection","data":{"kind":"unavailable","retryable":true,"op":"graph.me","cause":"connection_refused"}}`},
		{"an internal error's replaced message keeps the cause in data", &calsync.Error{Kind: calsync.KindInternal, Message: "secret detail", Cause: "network"},
			`{"code":-32603,"message":"internal error","data":{"kind":"internal","retryable":false,"cause":"network"}}`},
		{"a message-less kind uses its name", &calsync.Error{Kind: calsync.KindReconnectRequired},
			`{"code":-32001,"message":"reconnect_required","data":{"kind":"reconnect_required","retryable":false}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := json.Marshal(errorObject(tt.err))
			if string(b) != tt.want {
				t.Fatalf("got  %s\nwant %s", b, tt.want)
			}
			if strings.Contains(string(b), "secret") {
				t.Fatal("error text leaked")
			}
		})
	}
}

type errTest string

func (e errTest) Error() string { return string(e) }

type rotatedFailure struct{ err error }

func (f rotatedFailure) Error() string      { return f.err.Error() }
func (f rotatedFailure) Unwrap() error      { return f.err }
func (f rotatedFailure) RotatedTokens() any { return map[string]string{"refreshToken": "rt-2"} }

// A failure after a refresh must still hand the rotated tokens to the host,
// with the kind and code of the underlying failure.
func TestErrorObjectCarriesRotatedTokens(t *testing.T) {
	o := errorObject(rotatedFailure{&calsync.Error{Kind: calsync.KindUnavailable, Message: "graph down"}})
	if o.Code != kindCodes[calsync.KindUnavailable] {
		t.Fatalf("code %d, want the unavailable code", o.Code)
	}
	var d struct {
		Kind   calsync.Kind      `json:"kind"`
		Tokens map[string]string `json:"tokens"`
	}
	if err := json.Unmarshal(*o.Data, &d); err != nil {
		t.Fatal(err)
	}
	if d.Kind != calsync.KindUnavailable || d.Tokens["refreshToken"] != "rt-2" {
		t.Fatalf("data = %+v, want kind unavailable with the rotated tokens", d)
	}
	plain := errorObject(&calsync.Error{Kind: calsync.KindUnavailable})
	if strings.Contains(string(*plain.Data), "tokens") {
		t.Fatalf("data without rotation mentions tokens: %s", *plain.Data)
	}
}
