package kubectl

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestElideSecretShapes(t *testing.T) {
	pw := base64.StdEncoding.EncodeToString([]byte("correct horse battery"))
	tests := []struct {
		name string
		body string
	}{
		{"object", `{"kind":"Secret","metadata":{"name":"s"},"data":{"pw":"` + pw + `"}}`},
		{"list items carry no kind", `{"kind":"SecretList","items":[{"metadata":{"name":"s"},"data":{"pw":"` + pw + `"}}]}`},
		{"table rows", `{"kind":"Table","rows":[{"cells":["s"],"object":{"kind":"Secret","metadata":{"name":"s"},"data":{"pw":"` + pw + `"}}}]}`},
		{"stringData and last-applied", `{"metadata":{"name":"s","annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"stringData\":{\"pw\":\"correct horse battery\"}}"}},"stringData":{"pw":"correct horse battery"}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newElider()
			out := string(e.elide([]byte(tc.body)))
			if strings.Contains(out, pw) || strings.Contains(out, "correct horse") {
				t.Fatalf("value survived: %s", out)
			}
			if h := e.Humanize(out); strings.Contains(tc.body, pw) && !strings.Contains(h, "<elided: 21 bytes>") {
				t.Errorf("no byte count after humanizing: %s", h)
			}
		})
	}
}

func TestPlaceholderKeepsLength(t *testing.T) {
	e := newElider()
	for _, n := range []int{0, 1, 7, 8, 9, 100} {
		raw := strings.Repeat("x", n)
		ph := e.placeholder(base64.StdEncoding.EncodeToString([]byte(raw)), true)
		dec, err := base64.StdEncoding.DecodeString(ph)
		if err != nil || len(dec) != n {
			t.Errorf("n=%d: placeholder %q decodes to %d bytes (%v)", n, ph, len(dec), err)
		}
	}
}

func TestReplaceTokenOnlyWholeTokens(t *testing.T) {
	got := replaceToken("a: Kioq\nb: xxKioqyy\nc: Kioq", "Kioq", "<3>")
	if got != "a: <3>\nb: xxKioqyy\nc: <3>" {
		t.Errorf("got %q", got)
	}
}
