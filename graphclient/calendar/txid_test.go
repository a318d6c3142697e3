package calendar

import (
	"testing"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// Delta items carry no extended property, only the transactionId: the Oro
// id is read from ours (a UUIDv8 for an integer Oro id, the "oro1." form
// for any other). The property, where a request could expand it, comes
// first; another transactionId (an earlier version's UUID, a UUIDv8
// without our magic, another app's) names no Oro event.
func TestOroIDFromTransactionID(t *testing.T) {
	ours := calsync.TransactionID("42", "oro-42@oro.example.com", "")
	oursText := calsync.TransactionID("a-42", "oro-a-42@oro.example.com", "")
	prop := `,"singleValueExtendedProperties":[{"id":"` + OroIDPropertyID + `","value":"43"}]`
	cases := []struct{ name, txid, props, want string }{
		{"delta item of ours", ours, "", "42"},
		{"property first", ours, prop, "43"},
		{"delta item of ours, non-integer Oro id", oursText, "", "a-42"},
		{"another app's UUIDv8", "0192f3a1-7c2e-8d4b-9a10-00000000002a", "", ""},
		{"earlier version's transactionId", "6f1c2a4e-9b3d-5c55-8e21-7a0b9c3d2e1f", "", ""},
		{"earlier version's transactionId, property expanded", "6f1c2a4e-9b3d-5c55-8e21-7a0b9c3d2e1f", prop, "43"},
		{"created in Outlook", "", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tx := `null`
			if c.txid != "" {
				tx = `"` + c.txid + `"`
			}
			got, err := parseEvent([]byte(`{"id":"AAMk-1","changeKey":"ck1","transactionId":` + tx + c.props + `}`))
			if err != nil {
				t.Fatal(err)
			}
			if got.OroID != c.want || got.TransactionID != c.txid {
				t.Errorf("oroId %q, transactionId %q; want %q, %q", got.OroID, got.TransactionID, c.want, c.txid)
			}
		})
	}
}
