package schema

import (
	"bytes"
	_ "embed"
	"fmt"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed meta/openrpc-1.14.9.json
var openrpcMeta []byte

//go:embed meta/json-schema-tools-1.8.0.json
var jsonSchemaToolsMeta []byte

// URLs under which newCompiler's loader serves the embedded documents.
const (
	// documentURL is where the OpenRPC document itself is served; schemas in
	// it compile as documentURL + "#/components/schemas/Name".
	documentURL = "mem://oro-msync/openrpc.json"
	// metaSchemaURL is the $id of the OpenRPC meta-schema.
	metaSchemaURL = "https://meta.open-rpc.org/"
	// metaSchemaRawURL is where rpc.discover's result schema could point, as
	// the OpenRPC specification prescribes.
	metaSchemaRawURL = "https://raw.githubusercontent.com/open-rpc/meta-schema/master/schema.json"
	// jsonSchemaToolsURL is the $id (and $schema) of the meta-schema that the
	// OpenRPC meta-schema is written in.
	jsonSchemaToolsURL = "https://meta.json-schema.tools/"
)

// offline is a jsonschema.URLLoader that knows only the embedded documents.
type offline map[string][]byte

func (o offline) Load(url string) (any, error) {
	b, ok := o[url]
	if !ok {
		return nil, fmt.Errorf("schema: %s is not embedded and nothing is fetched from the network", url)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	// Both meta-schemas name https://meta.json-schema.tools/ as their
	// $schema, which the library does not know as a draft. That document is
	// draft-07 with titles added, so validate them as draft-07.
	if m, ok := v.(map[string]any); ok && m["$schema"] == jsonSchemaToolsURL {
		m["$schema"] = "http://json-schema.org/draft-07/schema#"
	}
	return v, err
}

// newCompiler returns a draft-07 compiler (the draft OpenRPC uses) that
// serves doc at documentURL and the two meta-schemas at their URLs, all
// from memory, and fails on any other URL.
func newCompiler(doc []byte) *jsonschema.Compiler {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.UseLoader(offline{
		documentURL:                      doc,
		metaSchemaURL:                    openrpcMeta,
		metaSchemaRawURL:                 openrpcMeta,
		jsonSchemaToolsURL:               jsonSchemaToolsMeta,
		"https://meta.json-schema.tools": jsonSchemaToolsMeta,
	})
	return c
}
