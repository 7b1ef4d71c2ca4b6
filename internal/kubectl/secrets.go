package kubectl

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/redact"
)

// maxSecretBody bounds the responses the filter buffers.
const maxSecretBody = 64 << 20

// secretFilter replaces the values of Secret data in every JSON response about Secrets, before kubectl
// sees them, so that no output format (tables, yaml, json, jsonpath, describe) can show them. Each value
// becomes a placeholder of the same length, so describe's byte counts stay true; placeholders are turned
// into "<elided: N bytes>" in the final text.
type secretFilter struct {
	next   http.RoundTripper
	elider *elider
}

// elider is one call's record of the placeholders it put in, shared by every client kubectl builds
// during the call.
type elider struct {
	mu           sync.Mutex
	placeholders map[string]int // base64 placeholder -> original byte count
}

func newElider() *elider { return &elider{placeholders: map[string]int{}} }

// wrap puts the filter in front of a transport.
func (e *elider) wrap(next http.RoundTripper) http.RoundTripper {
	return &secretFilter{next: next, elider: e}
}

func (f *secretFilter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := f.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	aboutSecrets := strings.Contains(req.URL.Path, "/secrets")
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt != "application/json" {
		// Only JSON is rewritten, and only JSON is asked for. Anything else about Secrets is refused; other
		// structured answers (protobuf, YAML) could hide an embedded Secret and are refused too.
		if resp.StatusCode < 300 && (aboutSecrets || structured(mt)) {
			resp.Body.Close()
			return nil, fmt.Errorf("refusing a %q response: Secret values in it could not be elided", mt)
		}
		return resp, nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxSecretBody+1))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if len(body) > maxSecretBody {
		return nil, fmt.Errorf("response larger than %d bytes: narrow the query", maxSecretBody)
	}
	if aboutSecrets || redact.MayHold(body) {
		body = f.elider.elide(body, aboutSecrets)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return resp, nil
}

// structured reports media types that carry objects.
func structured(mt string) bool {
	return strings.Contains(mt, "protobuf") || strings.Contains(mt, "yaml") || strings.HasSuffix(mt, "+json") || mt == "application/cbor"
}

// elide rewrites a JSON body with every credential in it elided. A body about Secrets that cannot be
// decoded is withheld: unread is never shown.
func (f *elider) elide(body []byte, aboutSecrets bool) []byte {
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		if aboutSecrets {
			return []byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","message":"a response about Secrets could not be read, so it is withheld"}`)
		}
		return body
	}
	if !redact.Doc(doc, f, redact.Options{SecretContext: aboutSecrets}) {
		return body
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false) // keep "<elided ...>" readable
	if err := enc.Encode(doc); err != nil {
		return body
	}
	return out.Bytes()
}

// Data and StringData make the elider the redact package's Values.
func (f *elider) Data(_, b64 string) string     { return f.placeholder(b64, true) }
func (f *elider) StringData(_, s string) string { return f.placeholder(s, false) }

// placeholder returns a value of the same decoded length as the original.
func (f *elider) placeholder(value string, isBase64 bool) string {
	n := len(value)
	if isBase64 {
		n = redact.DecodedLen(value)
	}
	fill := strings.Repeat("*", n)
	if n >= len("<elided>") {
		fill = "<elided>" + fill[len("<elided>"):]
	}
	if !isBase64 {
		return fill
	}
	enc := base64.StdEncoding.EncodeToString([]byte(fill))
	f.mu.Lock()
	f.placeholders[enc] = n
	f.mu.Unlock()
	return enc
}

// Humanize turns the placeholders in kubectl's output into "<elided: N bytes>".
func (f *elider) Humanize(out string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for enc, n := range f.placeholders {
		out = replaceToken(out, enc, fmt.Sprintf("<elided: %d bytes>", n))
	}
	return out
}

// replaceToken replaces old where it stands alone, not inside a longer base64 run.
func replaceToken(s, old, repl string) string {
	if old == "" {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, old)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := i + len(old)
		alone := (i == 0 || !isBase64Char(s[i-1])) && (end == len(s) || !isBase64Char(s[end]))
		b.WriteString(s[:i])
		if alone {
			b.WriteString(repl)
		} else {
			b.WriteString(old)
		}
		s = s[end:]
	}
}

func isBase64Char(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '='
}
