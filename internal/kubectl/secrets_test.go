package kubectl

import (
	"encoding/base64"
	"encoding/json"
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
			out := string(e.elide([]byte(tc.body), true))
			if strings.Contains(out, pw) || strings.Contains(out, "correct horse") {
				t.Fatalf("value survived: %s", out)
			}
			if h := e.Humanize(out); strings.Contains(tc.body, pw) && !strings.Contains(h, "<elided: 21 bytes>") {
				t.Errorf("no byte count after humanizing: %s", h)
			}
		})
	}
}

// TestElideEmbeddedSecrets covers answers that are not about Secrets but carry them: a ManifestWork's
// workload, a ManifestWorkReplicaSet's template, a policy's object templates (structured and raw), a
// dockercfg Secret's token annotation, and a Deployment applied with a Secret in its last-applied copy.
func TestElideEmbeddedSecrets(t *testing.T) {
	const clear = "hunter2-hunter2-hunter2"
	b64 := base64.StdEncoding.EncodeToString([]byte(clear))
	secret := `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s","namespace":"app"},"data":{"pw":"` + b64 + `"},"stringData":{"k":"` + clear + `"}}`
	tests := []struct{ name, body string }{
		{"ManifestWork", `{"kind":"ManifestWork","metadata":{"name":"w"},"spec":{"workload":{"manifests":[` + secret + `]}}}`},
		{"ManifestWorkList", `{"kind":"ManifestWorkList","items":[{"metadata":{"name":"w"},"spec":{"workload":{"manifests":[` + secret + `]}}}]}`},
		{"ManifestWorkReplicaSet", `{"kind":"ManifestWorkReplicaSet","metadata":{"name":"r"},"spec":{"manifestWorkTemplate":{"workload":{"manifests":[` + secret + `]}}}}`},
		{"Policy", `{"kind":"Policy","metadata":{"name":"p"},"spec":{"policy-templates":[{"objectDefinition":{"kind":"ConfigurationPolicy","spec":{"object-templates":[{"complianceType":"musthave","objectDefinition":` + secret + `}]}}}]}}`},
		{"raw policy template", `{"kind":"ConfigurationPolicy","metadata":{"name":"c"},"spec":{"object-templates-raw":"- objectDefinition:\n    kind: Secret\n    stringData:\n      pw: ` + clear + `\n"}}`},
		{"token annotation", `{"kind":"Secret","type":"kubernetes.io/dockercfg","metadata":{"name":"d","annotations":{"openshift.io/token-secret.value":"` + clear + `"}},"data":{}}`},
		{"token annotation on another kind", `{"kind":"ConfigMap","metadata":{"name":"d","annotations":{"openshift.io/token-secret.value":"` + clear + `"}}}`},
		{"last-applied of a workload", `{"kind":"ManifestWork","metadata":{"name":"w","annotations":{"kubectl.kubernetes.io/last-applied-configuration":` + strconvQuote(`{"kind":"ManifestWork","spec":{"workload":{"manifests":[`+secret+`]}}}`) + `}}}`},
		{"table row", `{"kind":"Table","rows":[{"cells":["w"],"object":{"kind":"ManifestWork","metadata":{"name":"w"},"spec":{"workload":{"manifests":[` + secret + `]}}}}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newElider()
			out := e.Humanize(string(e.elide([]byte(tc.body), false)))
			if strings.Contains(out, clear) || strings.Contains(out, b64) {
				t.Fatalf("value survived: %s", out)
			}
		})
	}
	// An answer with nothing to elide is passed on byte for byte.
	plain := `{"kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"b"}}`
	if out := string(newElider().elide([]byte(plain), false)); out != plain {
		t.Errorf("a ConfigMap was rewritten: %s", out)
	}
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
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
