package api

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/oro-msync/oro-msync/rpc"
)

// BenchmarkDecodeSyncRunParams decodes the params of a sync.run pushing
// 5,000 Oro events, as the sidecar does before it runs the engine.
//
//	go test ./rpc/api/ -run '^$' -bench DecodeSyncRunParams -benchtime 30x
func BenchmarkDecodeSyncRunParams(b *testing.B) {
	var s strings.Builder
	s.WriteString(`{"app":{"clientId":"x"},"tokens":{"accessToken":"a"},"mode":"full","events":[`)
	for i := range 5000 {
		if i > 0 {
			s.WriteByte(',')
		}
		fmt.Fprintf(&s, `{"id":"%d","uid":"u-%d","title":"oro %d","description":"","location":"","start":"2025-03-01T08:00:00Z",`+
			`"end":"2025-03-01T09:00:00Z","allDay":false,"updatedAt":"2025-03-01T08:00:00Z"}`, i, i, i)
	}
	s.WriteString(`]}`)
	raw := json.RawMessage(s.String())
	b.ReportAllocs()
	for b.Loop() {
		var p SyncRunParams
		if err := rpc.DecodeParams(raw, &p); err != nil || len(p.Events) != 5000 {
			b.Fatal(err)
		}
	}
}
