package mustgather

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
)

// pagingFixture is 40 pods over 4 namespaces, with 3 apps, 4 nodes and 2 priority classes (a field the
// index does not keep), a pod file that does not parse in the middle, and events.
func pagingFixture(t *testing.T) string {
	t.Helper()
	files := map[string]string{
		"namespaces/b/core/pods/p-bad.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p-bad\n  namespace: b\nspec: [unclosed\n",
	}
	for i := 0; i < 40; i++ {
		ns, name := fmt.Sprintf("%c", 'a'+i%4), fmt.Sprintf("p%02d", i)
		files["namespaces/"+ns+"/core/pods/"+name+".yaml"] = fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\n  namespace: %s\n"+
			"  labels:\n    app: app%d\nspec:\n  nodeName: n%d\n  priorityClassName: prio%d\n  containers:\n  - name: c\nstatus:\n  phase: Running\n",
			name, ns, i%3, i%4, i%2)
	}
	for i := 0; i < 6; i++ {
		files[fmt.Sprintf("namespaces/a/core/events/e%d.yaml", i)] = fmt.Sprintf("apiVersion: v1\nkind: Event\nmetadata:\n  name: e%d\n  namespace: a\n"+
			"involvedObject:\n  kind: Pod\n  name: p%02d\n  namespace: a\nreason: BackOff\ntype: Warning\n", i, i*4)
	}
	return writeFolder(t, files)
}

// TestPagingServesEveryObjectOnce follows the continue tokens of every query shape at many limits,
// as lists and as tables: the pages together hold what the unpaged list holds, in its order, each
// object once, none larger than its limit, and only the last page has no token.
func TestPagingServesEveryObjectOnce(t *testing.T) {
	a, err := Open(pagingFixture(t), OpenOptions{waitObjects: -1}) // decoded while it is paged, too
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	queries := []struct {
		name, path, label, field string
		want                     int
	}{
		{"every pod", "/api/v1/pods", "", "", 40},
		{"one namespace", "/api/v1/namespaces/c/pods", "", "", 10},
		{"a label", "/api/v1/pods", "app=app1", "", 13},
		{"a label not in the index", "/api/v1/pods", "app in (app0,app2)", "", 27},
		{"an indexed field", "/api/v1/pods", "", "spec.nodeName=n2", 10},
		{"a field the index does not keep", "/api/v1/pods", "", "spec.priorityClassName=prio1", 20},
		{"labels, fields and a namespace", "/api/v1/namespaces/b/pods", "app!=app0", "spec.nodeName!=n3", 7},
		{"matches nothing", "/api/v1/pods", "app=none", "", 0},
		{"another kind", "/api/v1/events", "", "involvedObject.name=p04", 1},
	}
	for _, qc := range queries {
		q := url.Values{}
		if qc.label != "" {
			q.Set("labelSelector", qc.label)
		}
		if qc.field != "" {
			q.Set("fieldSelector", qc.field)
		}
		for _, table := range []bool{false, true} {
			_, whole, _ := listPage(t, a, qc.path, q, table)
			if len(whole.names) != qc.want || whole.cont != "" {
				t.Fatalf("%s: unpaged %d objects (continue %q), want %d", qc.name, len(whole.names), whole.cont, qc.want)
			}
			for _, limit := range []int{1, 2, 3, 7, qc.want - 1, qc.want, qc.want + 1, 500} {
				if limit < 1 {
					continue
				}
				t.Run(fmt.Sprintf("%s/table=%v/limit=%d", qc.name, table, limit), func(t *testing.T) {
					var got []string
					pq := url.Values{"limit": {fmt.Sprint(limit)}}
					for k, v := range q {
						pq[k] = v
					}
					for pages := 0; ; pages++ {
						if pages > qc.want+1 {
							t.Fatalf("more than %d pages: %v", pages, got)
						}
						code, p, msg := listPage(t, a, qc.path, pq, table)
						if code != http.StatusOK {
							t.Fatalf("page %d: %d %s", pages, code, msg)
						}
						if len(p.names) > limit {
							t.Errorf("page %d holds %d objects, limit %d", pages, len(p.names), limit)
						}
						if p.cont != "" && len(p.names) == 0 {
							t.Errorf("page %d is empty but says more follow", pages)
						}
						got = append(got, p.names...)
						if p.cont == "" {
							break
						}
						pq.Set("continue", p.cont)
					}
					if strings.Join(got, ",") != strings.Join(whole.names, ",") {
						t.Errorf("pages hold %v, want %v", got, whole.names)
					}
				})
			}
		}
	}
}

// TestContinueTokenMisuse: a token is refused, with a reason, for any list but the one it was made for,
// and when it was not made by the server; the same token always gives the same page.
func TestContinueTokenMisuse(t *testing.T) {
	a, err := Open(pagingFixture(t), OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	first := url.Values{"limit": {"3"}, "labelSelector": {"app=app1"}}
	_, p, _ := listPage(t, a, "/api/v1/pods", first, false)
	if p.cont == "" {
		t.Fatal("the first page has no continue token")
	}
	forged, _ := json.Marshal(continueToken{Version: tokenVersion, Query: "0123", Name: "p00"})
	tests := []struct {
		name, path string
		q          url.Values
		code       int
		want       string
	}{
		{"the same list", "/api/v1/pods", url.Values{"labelSelector": {"app=app1"}}, 200, ""},
		{"the same list with another limit", "/api/v1/pods", url.Values{"labelSelector": {"app=app1"}, "limit": {"1"}}, 200, ""},
		{"another label selector", "/api/v1/pods", url.Values{"labelSelector": {"app=app2"}}, 400, "made for another list"},
		{"no label selector", "/api/v1/pods", url.Values{}, 400, "made for another list"},
		{"a field selector added", "/api/v1/pods", url.Values{"labelSelector": {"app=app1"}, "fieldSelector": {"spec.nodeName=n1"}}, 400, "made for another list"},
		{"one namespace", "/api/v1/namespaces/a/pods", url.Values{"labelSelector": {"app=app1"}}, 400, "made for another list"},
		{"another resource", "/api/v1/events", url.Values{"labelSelector": {"app=app1"}}, 400, "made for another list"},
		{"a token not in base64", "/api/v1/pods", url.Values{"labelSelector": {"app=app1"}, "continue": {"%%%"}}, 400, "is not valid"},
		{"a token of another server", "/api/v1/pods", url.Values{"labelSelector": {"app=app1"}, "continue": {base64.RawURLEncoding.EncodeToString([]byte(`{"v":9,"q":"x","n":"p00"}`))}}, 400, "is not valid"},
		{"a forged query", "/api/v1/pods", url.Values{"labelSelector": {"app=app1"}, "continue": {base64.RawURLEncoding.EncodeToString(forged)}}, 400, "made for another list"},
		{"a limit that is no number", "/api/v1/pods", url.Values{"labelSelector": {"app=app1"}, "limit": {"ten"}}, 400, "not a number"},
	}
	_, again, _ := listPage(t, a, "/api/v1/pods", url.Values{"labelSelector": {"app=app1"}, "limit": {"3"}, "continue": {p.cont}}, false)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.q.Has("continue") {
				tc.q.Set("continue", p.cont)
			}
			code, got, msg := listPage(t, a, tc.path, tc.q, false)
			if code != tc.code || !strings.Contains(msg, tc.want) {
				t.Fatalf("%d %q, want %d %q", code, msg, tc.code, tc.want)
			}
			if code == 200 && (len(got.names) == 0 || got.names[0] != again.names[0]) {
				t.Errorf("page %v does not start where the token says (%v)", got.names, again.names)
			}
		})
	}
	for i := 0; i < 3; i++ {
		_, same, _ := listPage(t, a, "/api/v1/pods", url.Values{"labelSelector": {"app=app1"}, "limit": {"3"}, "continue": {p.cont}}, false)
		if fmt.Sprint(same) != fmt.Sprint(again) {
			t.Errorf("the same token gave %v, then %v", again, same)
		}
	}
}

// TestPagedSecretsStayElided pages through Secrets one at a time, as objects and as tables: no page
// holds a value, and each value is rebuilt at its length.
func TestPagedSecretsStayElided(t *testing.T) {
	files := map[string]string{}
	for i := 0; i < 5; i++ {
		files[fmt.Sprintf("namespaces/app/core/secrets/s%d.yaml", i)] = secretYAML(fmt.Sprintf("s%d", i), b64("hunter2-clear-"+fmt.Sprint(i)))
	}
	a, err := Open(writeFolder(t, files), OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for _, include := range []string{"", "Object"} {
		var names []string
		q := url.Values{"limit": {"1"}}
		if include != "" {
			q.Set("includeObject", include)
		}
		for {
			req, _ := http.NewRequest(http.MethodGet, Host(HubName)+"/api/v1/namespaces/app/secrets?"+q.Encode(), nil)
			if include != "" {
				req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
			}
			resp, err := a.RoundTripper().RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			var body struct {
				Metadata struct{ Continue string }
				Items    []map[string]any
			}
			raw := new(strings.Builder)
			if err := json.NewDecoder(teeReader{resp.Body, raw}).Decode(&body); err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if strings.Contains(raw.String(), "hunter2") || strings.Contains(raw.String(), b64("hunter2-clear-")[:12]) {
				t.Fatalf("a page holds a clear value: %s", raw)
			}
			for _, it := range body.Items {
				names = append(names, str(it, "metadata", "name"))
				if v := str(it, "data", "key0"); v != starsBase64(len("hunter2-clear-0")) {
					t.Errorf("%s: key0 is %q, want stars of its length", str(it, "metadata", "name"), v)
				}
			}
			if body.Metadata.Continue == "" {
				break
			}
			q.Set("continue", body.Metadata.Continue)
		}
		if include == "" && strings.Join(names, ",") != "s0,s1,s2,s3,s4" {
			t.Errorf("pages hold %v", names)
		}
	}
}

// teeReader copies what is read to a builder.
type teeReader struct {
	r interface{ Read([]byte) (int, error) }
	w *strings.Builder
}

func (t teeReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.w.Write(p[:n])
	return n, err
}

// TestKubectlPagesEveryObject runs kubectl over the archive with small chunks: its answers are those
// of one unpaged request.
func TestKubectlPagesEveryObject(t *testing.T) {
	a, err := Open(pagingFixture(t), OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	run := kubectlRunner(t, a, HubName)
	for _, line := range []string{
		"get pods -A", "get pods -A -l app=app2", "get pods -n c --field-selector spec.priorityClassName=prio0",
		"get pods -A -o name", "get events -A -o wide",
	} {
		t.Run(line, func(t *testing.T) {
			whole := run(line + " --chunk-size=0")
			if whole.Err != nil {
				t.Fatal(whole.Err, whole.Stderr)
			}
			for _, chunk := range []int{1, 4, 500} {
				paged := run(fmt.Sprintf("%s --chunk-size=%d", line, chunk))
				if paged.Err != nil || paged.Stdout != whole.Stdout {
					t.Errorf("chunks of %d: %v\n%s\nwant\n%s", chunk, paged.Err, paged.Stdout, whole.Stdout)
				}
			}
			if lines := strings.Count(whole.Stdout, "\n"); lines < 2 {
				t.Errorf("%d lines", lines)
			}
		})
	}
	names := strings.Fields(run("get pods -A -o name --chunk-size=3").Stdout)
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	if len(names) != 40 || len(dedupeStrings(sorted)) != 40 {
		t.Errorf("%d pod names, %d distinct, want 40", len(names), len(dedupeStrings(sorted)))
	}
}

func dedupeStrings(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
