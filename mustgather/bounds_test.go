package mustgather

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// allocated reports the bytes the process allocated while f ran (the test runs nothing else meanwhile).
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// writeFolder writes a must-gather folder of one cluster, "hub", from paths below it to contents.
func writeFolder(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, body := range files {
		path := filepath.Join(dir, "hub", filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func secretYAML(name string, values ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: app\ndata:\n", name)
	for i, v := range values {
		fmt.Fprintf(&b, "  key%d: %s\n", i, v)
	}
	return b.String()
}

// serveStatus asks the archive's API server for url and returns the status code and body, with the
// bytes allocated while the server made its answer (reading the answer is not counted).
func serveStatus(t *testing.T, a *Archive, url string) (int, []byte, uint64) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, Host(HubName)+url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	var resp *http.Response
	n := allocated(func() { resp, err = a.RoundTripper().RoundTrip(req) })
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	if _, err := body.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body.Bytes(), n
}

// TestCraftedElidedLengths serves Secrets whose elided values claim more bytes than any Secret holds:
// the answer is bounded, or refused with what to do, and never allocates what the archive claims.
func TestCraftedElidedLengths(t *testing.T) {
	many := map[string]string{}
	for i := 0; i < 40; i++ {
		many[fmt.Sprintf("namespaces/app/core/secrets/s%02d.yaml", i)] = secretYAML(fmt.Sprintf("s%02d", i), "1048576 bytes long")
	}
	// A ManifestWork whose last-applied copy quotes large elided values.
	var manifests []string
	for i := 0; i < 100; i++ {
		manifests = append(manifests, fmt.Sprintf(`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s%d"},"data":{"k":"1048576 bytes long"}}`, i))
	}
	applied := `{"apiVersion":"work.open-cluster-management.io/v1","kind":"ManifestWork","metadata":{"name":"w","namespace":"app"},"spec":{"workload":{"manifests":[` + strings.Join(manifests, ",") + `]}}}`
	work := "apiVersion: work.open-cluster-management.io/v1\nkind: ManifestWork\nmetadata:\n  name: w\n  namespace: app\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '" + applied + "'\nspec: {}\n"
	tests := []struct {
		name     string
		files    map[string]string
		url      string
		code     int
		maxAlloc uint64
		want     string // in the body
	}{
		{"a last-applied copy quoting large values", map[string]string{"namespaces/app/work.open-cluster-management.io/manifestworks/w.yaml": work},
			"/apis/work.open-cluster-management.io/v1/namespaces/app/manifestworks/w", http.StatusBadRequest, 4 << 20, "narrow the query"},
		{"a value of 99999999999 bytes", map[string]string{"namespaces/app/core/secrets/big.yaml": secretYAML("big", "99999999999 bytes long")},
			"/api/v1/namespaces/app/secrets/big", http.StatusOK, 16 << 20, `"key0":"Kioq`},
		{"a value of more digits than an int64", map[string]string{"namespaces/app/core/secrets/big.yaml": secretYAML("big", "99999999999999999999999999 bytes long")},
			"/api/v1/namespaces/app/secrets/big", http.StatusOK, 16 << 20, `"key0":"Kioq`},
		{"a value of 256 MiB", map[string]string{"namespaces/app/core/secrets/big.yaml": secretYAML("big", "268435456 bytes long")},
			"/api/v1/namespaces/app/secrets/big", http.StatusOK, 16 << 20, `"key0":"Kioq`},
		{"one Secret of many large values", map[string]string{"namespaces/app/core/secrets/big.yaml": secretYAML("big", strings.Split(strings.Repeat("1048576 bytes long,", 100), ",")[:100]...)},
			"/api/v1/namespaces/app/secrets/big", http.StatusBadRequest, 4 << 20, "narrow the query"},
		{"many Secrets of 1 MiB values", many, "/api/v1/secrets", http.StatusBadRequest, 4 << 20, "narrow the query"},
		{"a small value", map[string]string{"namespaces/app/core/secrets/small.yaml": secretYAML("small", "5 bytes long")},
			"/api/v1/namespaces/app/secrets/small", http.StatusOK, 4 << 20, `"key0":"KioqKio="`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Open(writeFolder(t, tc.files), OpenOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			code, body, n := serveStatus(t, a, tc.url)
			if n > tc.maxAlloc {
				t.Errorf("serving allocated %d bytes, want at most %d", n, tc.maxAlloc)
			}
			if code != tc.code || !bytes.Contains(body, []byte(tc.want)) {
				t.Errorf("status %d, want %d with %q; body %.300s", code, tc.code, tc.want, body)
			}
			if code == http.StatusOK && len(body) > maxElidedValue*2 {
				t.Errorf("answer of %d bytes, want at most the %d bytes one value may claim, encoded", len(body), maxElidedValue)
			}
		})
	}
}

// TestCraftedLog serves a log far larger than an answer may hold: only its end is read.
func TestCraftedLog(t *testing.T) {
	line := "2026-01-02T03:04:05Z " + strings.Repeat("x", 99) + "\n"
	big := strings.Repeat(line, (3*maxServedLog)/len(line)) + "2026-01-02T03:04:06Z the last line\n"
	pod := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: app\nspec:\n  containers:\n  - name: c\n"
	dir := writeFolder(t, map[string]string{
		"namespaces/app/core/pods/p.yaml":             pod,
		"namespaces/app/pods/p/c/c/logs/current.log":  big,
		"namespaces/app/pods/p/c/c/logs/previous.log": "one line\n",
	})
	a, err := Open(dir, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	tests := []struct {
		name     string
		query    string
		maxAlloc uint64
		want     []string // in the answer
		maxLen   int
	}{
		{"whole log", "", 3 * maxServedLog, []string{"the last line", "bytes of this log are not served"}, maxServedLog + 1024},
		{"tail", "&tailLines=1&timestamps=true", 2 * maxServedLog, []string{"2026-01-02T03:04:06Z the last line\n"}, 64},
		{"since", "&sinceSeconds=0&timestamps=true", 2 * maxServedLog, []string{"2026-01-02T03:04:06Z the last line\n"}, 64},
		{"timestamps only when asked", "&tailLines=1", 2 * maxServedLog, []string{"the last line\n"}, len("the last line\n")},
		{"previous", "&previous=true", 1 << 20, []string{"one line\n"}, 16},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body, n := serveStatus(t, a, "/api/v1/namespaces/app/pods/p/log?container=c"+tc.query)
			if code != http.StatusOK {
				t.Fatalf("status %d: %s", code, body)
			}
			if n > tc.maxAlloc {
				t.Errorf("serving allocated %d bytes, want at most %d", n, tc.maxAlloc)
			}
			if len(body) > tc.maxLen {
				t.Errorf("answer of %d bytes, want at most %d", len(body), tc.maxLen)
			}
			for _, w := range tc.want {
				if !bytes.Contains(body, []byte(w)) {
					t.Errorf("the answer lacks %q: %.200q", w, body)
				}
			}
		})
	}
}

// TestCraftedArchiveFiles opens archives whose small files (the timestamp, the collection errors) are
// huge, or whose List files hold more objects than the archive may: opening reads what it needs, or
// refuses with the setting to raise.
func TestCraftedArchiveFiles(t *testing.T) {
	ns := "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: app\n"
	var list strings.Builder
	list.WriteString("apiVersion: v1\nkind: ConfigMapList\nitems:\n")
	for i := 0; i < 50; i++ {
		fmt.Fprintf(&list, "- metadata:\n    name: cm%d\n    namespace: app\n", i)
	}
	huge := strings.Repeat("2026-01-02T03:04:05Z ", (32<<20)/21)
	tests := []struct {
		name     string
		files    map[string]string
		limits   Limits
		maxAlloc uint64
		err      string // "" when the archive opens
		check    func(t *testing.T, a *Archive)
	}{
		{"huge timestamp file", map[string]string{"namespaces/app/app.yaml": ns, "../timestamp": huge}, Limits{}, 8 << 20, "",
			func(t *testing.T, a *Archive) {
				if a.CollectedAt.IsZero() {
					t.Error("the timestamp was not read")
				}
			}},
		{"huge collection errors", map[string]string{"namespaces/app/app.yaml": ns, collectionErrorsFile: strings.Repeat("configmaps: forbidden\n", (32<<20)/22)}, Limits{}, 8 << 20, "",
			func(t *testing.T, a *Archive) {
				if got := a.Errors["hub"]; len(got) > maxErrorsBytes+256 || !strings.Contains(got, "configmaps: forbidden") || !strings.Contains(got, "more bytes in "+collectionErrorsFile) {
					t.Errorf("errors of %d bytes: %.200q", len(got), got)
				}
			}},
		{"more objects than files allowed", map[string]string{"namespaces/app/app.yaml": ns, "namespaces/app/core/configmaps.yaml": list.String()}, Limits{MaxFiles: 20, MaxBytes: 1 << 20}, 8 << 20,
			"holds more than 20 objects (raise --must-gather-max-files to accept it)", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFolder(t, tc.files)
			var a *Archive
			var err error
			n := allocated(func() { a, err = Open(dir, OpenOptions{Limits: tc.limits}) })
			if a != nil {
				defer a.Close()
			}
			if n > tc.maxAlloc {
				t.Errorf("opening allocated %d bytes, want at most %d", n, tc.maxAlloc)
			}
			var hostile *HostileArchiveError
			switch {
			case tc.err == "" && err != nil:
				t.Fatal(err)
			case tc.err != "" && (!errors.As(err, &hostile) || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("err = %v, want a refusal saying %q", err, tc.err)
			case tc.check != nil:
				tc.check(t, a)
			}
		})
	}
}

func TestParseElided(t *testing.T) {
	tests := []struct {
		in string
		n  int64
		ok bool
	}{
		{"5 bytes long", 5, true},
		{"0 bytes long", 0, true},
		{"99999999999999999999999999 bytes long", math.MaxInt64, true},
		{"-5 bytes long", 0, false},
		{"5 bytes longer", 0, false},
		{" bytes long", 0, false},
		{"5  bytes long", 0, false},
		{"c2VjcmV0", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if n, ok := parseElided(tc.in); n != tc.n || ok != tc.ok {
				t.Errorf("parseElided(%q) = %d, %v; want %d, %v", tc.in, n, ok, tc.n, tc.ok)
			}
		})
	}
}

func TestStarsBase64(t *testing.T) {
	for n := 0; n < 10; n++ {
		if got, want := starsBase64(n), base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("*"), n)); got != want {
			t.Errorf("starsBase64(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestLogWindows(t *testing.T) {
	log := "2026-01-02T03:00:00Z one\nno stamp\n2026-01-02T03:00:30Z two\n\n2026-01-02T03:01:00Z three\n"
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"tail 0", tail([]byte(log), 0), ""},
		{"tail 1", tail([]byte(log), 1), "2026-01-02T03:01:00Z three\n"},
		{"tail 2 keeps an empty line", tail([]byte(log), 2), "\n2026-01-02T03:01:00Z three\n"},
		{"tail past the start", tail([]byte(log), 99), log},
		{"tail without a final newline", tail([]byte("a\nb"), 1), "b"},
		{"since 0", since([]byte(log), 0), "2026-01-02T03:01:00Z three\n"},
		{"since 30s", since([]byte(log), 30*time.Second), "2026-01-02T03:00:30Z two\n\n2026-01-02T03:01:00Z three\n"},
		{"since an hour", since([]byte(log), time.Hour), log},
		{"since on a log without stamps", since([]byte("a\nb\n"), time.Second), "a\nb\n"},
		{"since past a line too long to be a stamp", since([]byte(strings.Repeat("x", 100)+"\n2026-01-02T03:00:00Z a\n"), 0), "2026-01-02T03:00:00Z a\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if string(tc.got) != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}

// TestEncodeElidedBackstop hides elided values where the first count cannot see them (JSON escapes in
// a last-applied copy): the exact count refuses the answer before it is rebuilt.
func TestEncodeElidedBackstop(t *testing.T) {
	var manifests []string
	for i := 0; i < 100; i++ {
		manifests = append(manifests, fmt.Sprintf(`{"kind":"Secret","metadata":{"name":"s%d"},"data":{"k":"\u0031048576 bytes long"}}`, i))
	}
	applied := `{"kind":"ManifestWork","metadata":{"name":"w"},"spec":{"workload":{"manifests":[` + strings.Join(manifests, ",") + `]}}}`
	work := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "work.open-cluster-management.io/v1", "kind": "ManifestWork",
		"metadata": map[string]any{"name": "w", "namespace": "app", "annotations": map[string]any{LastAppliedAnnotation: applied}},
		"spec":     map[string]any{"workload": map[string]any{"manifests": []any{secretObject("5 bytes long")}}}}}
	var err error
	n := allocated(func() { _, err = encodeElided([]*unstructured.Unstructured{work}, false) })
	if !errors.Is(err, errElidedAnswer) {
		t.Errorf("err = %v, want the answer refused", err)
	}
	if limit := uint64(4 << 20); n > limit {
		t.Errorf("rebuilding allocated %d bytes, want at most %d", n, limit)
	}
	if got := work.Object["metadata"].(map[string]any)["annotations"].(map[string]any)[LastAppliedAnnotation]; got != applied {
		t.Error("the loaded object was changed: it is shared by every answer")
	}
}

func secretObject(value string) map[string]any {
	return map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "s"}, "data": map[string]any{"k": value}}
}
