package graphsim

import "testing"

// Exchange keeps an event body as HTML (facts §2: GET returns HTML by
// default, wrapped in <html><head>…</head><body>…</body></html>; a body
// written as text comes back as auto-generated HTML, microsoft-graph-docs
// #8215). Prefer: outlook.body-content-type="text" converts that HTML back
// with CRLF line breaks and a trailing CRLF: the documented example
// get_messages_in_text (docs api-reference/v1.0/api/user-list-messages.md)
// answers "Welcome to the Support group!\r\n". So a text body does not
// round-trip byte for byte, unless ExactTextBodies.
func TestTextBodyRoundTrip(t *testing.T) {
	const textPref = `outlook.body-content-type="text"`
	cases := []struct {
		name, in    string
		exact       bool
		text, inner string // text answer; HTML answer's <body> content
	}{
		{name: "one line", in: "Agenda", text: "Agenda\r\n", inner: "Agenda"},
		{name: "LF lines", in: "a\nb", text: "a\r\nb\r\n", inner: "a<br>\r\nb"},
		{name: "CRLF lines", in: "a\r\nb", text: "a\r\nb\r\n", inner: "a<br>\r\nb"},
		{name: "CR lines", in: "a\rb", text: "a\r\nb\r\n", inner: "a<br>\r\nb"},
		{name: "trailing newline", in: "a\n", text: "a\r\n", inner: "a<br>\r\n"},
		{name: "blank line", in: "a\n\nb", text: "a\r\n\r\nb\r\n", inner: "a<br>\r\n<br>\r\nb"},
		{name: "escaped", in: `<b> & "q"`, text: "<b> & \"q\"\r\n", inner: "&lt;b&gt; &amp; &#34;q&#34;"},
		{name: "empty", in: "", text: "", inner: ""},
		{name: "exact", in: "a\nb\n", exact: true, text: "a\nb\n", inner: "a<br>\r\nb<br>\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{ExactTextBodies: tc.exact})
			ev := simpleEvent("s", "2025-01-07T09:00:00", "2025-01-07T10:00:00")
			ev["body"] = map[string]any{"contentType": "text", "content": tc.in}
			id := e.create(ev).str("id")

			r := e.do("GET", "/v1.0/me/events/"+id, nil, "Prefer", textPref)
			if got := r.body["body"].(map[string]any); got["contentType"] != "text" || got["content"] != tc.text {
				t.Errorf("text: got %q, want %q", got, tc.text)
			}
			if r.header.Get("Preference-Applied") != textPref {
				t.Errorf("Preference-Applied = %q", r.header.Get("Preference-Applied"))
			}

			r = e.do("GET", "/v1.0/me/events/"+id, nil)
			want := "<html><head>\r\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\r\n</head>\r\n<body>\r\n" +
				tc.inner + "\r\n</body>\r\n</html>\r\n"
			if got := r.body["body"].(map[string]any); got["contentType"] != "html" || got["content"] != want {
				t.Errorf("html: got %q, want %q", got["content"], want)
			}
		})
	}
}

// An HTML body converts to text the same way: line breaks and block ends
// become CRLF, the source's own line breaks do not count, and the text ends
// with a CRLF (facts §2; get_messages_in_text, see TestTextBodyRoundTrip).
func TestHTMLBodyAsText(t *testing.T) {
	cases := []struct{ in, want string }{
		{"<html><head><title>x</title></head><body>Hi<br>there</body></html>", "Hi\r\nthere\r\n"},
		{"<p>one</p>\r\n<p>two &amp; more</p>", "one\r\ntwo & more\r\n"},
		{"<div>x<br>\r\n</div>", "x\r\n\r\n"},
		{"plain", "plain\r\n"},
	}
	e := newEnv(t, Options{})
	for _, tc := range cases {
		ev := simpleEvent("s", "2025-01-07T09:00:00", "2025-01-07T10:00:00")
		ev["body"] = map[string]any{"contentType": "html", "content": tc.in}
		id := e.create(ev).str("id")
		r := e.do("GET", "/v1.0/me/events/"+id, nil, "Prefer", `outlook.body-content-type="text"`)
		if got := r.body["body"].(map[string]any)["content"]; got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
}
