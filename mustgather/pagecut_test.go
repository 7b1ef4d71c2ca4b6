package mustgather

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/kubectl"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

// listCounter counts the pages of pod and ConfigMap lists the archive answers.
type listCounter struct {
	next  http.RoundTripper
	pages atomic.Int64
}

func (c *listCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/pods") || strings.HasSuffix(req.URL.Path, "/configmaps") {
		c.pages.Add(1)
	}
	return c.next.RoundTrip(req)
}

// TestGetStopsPagingAtTheCap runs kubectl get over 2,000 pods (four pages of kubectl's 500) with an
// output of 8 KiB: a get whose output is a prefix of the whole list reads the pages that fill it and
// says it was cut; one whose output depends on every row (a template) reads all four; a sorted get
// reads one unpaged list, as kubectl asks for it; a get whose rows fit is not cut; a get whose first
// page was taken to fill the output but did not runs again whole.
func TestGetStopsPagingAtTheCap(t *testing.T) {
	files := map[string]string{}
	for i := 0; i < 2000; i++ {
		ns, name := fmt.Sprintf("ns-%02d", i%20), fmt.Sprintf("pod-%04d", i)
		files["namespaces/"+ns+"/core/pods/"+name+".yaml"] = fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\n  namespace: %s\n"+
			"  uid: 0b5e1f4e-0000-4000-8000-%012d\n  labels:\n    app: app%d\nspec:\n  nodeName: n%d\n  containers:\n  - name: c\nstatus:\n  phase: Running\n",
			name, ns, i, i%50, i%4)
	}
	// 30 ConfigMaps whose JSON is far longer than their YAML (JSON escapes '<' as six bytes): the first
	// page of 25 is taken to fill 8 KiB, prints to less, and the command runs again whole.
	for i := 0; i < 30; i++ {
		files[fmt.Sprintf("namespaces/html/core/configmaps/cm-%02d.yaml", i)] = fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%02d\n  namespace: html\n"+
			"data:\n  page: %q\n", i, strings.Repeat("<", 100))
	}
	a, err := Open(writeFolder(t, files), OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	engine, err := kubectl.NewEngine(kubectl.Options{WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Connector{Archive: a}.RESTConfig(context.Background(), ocm.Target{Name: "hub"})
	if err != nil {
		t.Fatal(err)
	}
	counter := &listCounter{next: cfg.Transport}
	cfg.Transport = counter
	cases := []struct {
		line   string
		pages  int64
		capped bool
		first  string
	}{
		{"get pods -A", 1, true, "NAMESPACE"},
		{"get pods -A -o wide", 1, true, "NAMESPACE"},
		{"get pods -A -o name", 2, true, "pod/pod-0000"},               // 500 names print to less than 8 KiB
		{"get pods -A -o yaml", 3, true, "apiVersion: v1"},             // pages of 25 objects, taken to print half their JSON
		{"get pods -A --sort-by=.metadata.name", 1, true, "NAMESPACE"}, // kubectl sorts one unpaged list
		{"get pods -A -o jsonpath='{.items[-1:].metadata.name}'", 4, false, "pod-1999"},
		{"get pods -A -l app=app7", 1, false, "NAMESPACE"}, // 40 rows fit one page
		{"get configmaps -n html -o yaml", 3, false, "apiVersion: v1"},
		{"get configmaps -n html -o json", 1, true, "{"}, // kubectl escapes the same way: the estimate holds
	}
	for i, c := range cases {
		t.Run(c.line, func(t *testing.T) {
			words, err := kubectl.Split(c.line)
			if err != nil {
				t.Fatal(err)
			}
			plan, err := kubectl.Check(words, kubectl.ReadTool, false)
			if err != nil {
				t.Fatal(err)
			}
			before := counter.pages.Load()
			res := engine.Run(context.Background(), kubectl.Request{Key: fmt.Sprint("hub", i), Config: cfg, Plan: plan, Timeout: time.Minute, OutputBytes: 8 << 10})
			if res.Err != nil {
				t.Fatalf("%v %s", res.Err, res.Stderr)
			}
			if pages := counter.pages.Load() - before; pages != c.pages {
				t.Errorf("read %d pages of pods, want %d", pages, c.pages)
			}
			if res.Capped != c.capped || len(res.Stdout) > 8<<10 {
				t.Errorf("capped %v with %d bytes, want capped %v within 8 KiB", res.Capped, len(res.Stdout), c.capped)
			}
			if !c.capped && !strings.Contains(res.Stdout, "cm-29") && !strings.Contains(res.Stdout, "NAMESPACE") && !strings.Contains(res.Stdout, "pod-1999") {
				t.Errorf("an answer within the cap misses its last object:\n%s", res.Stdout)
			}
			if !strings.HasPrefix(res.Stdout, c.first) {
				t.Errorf("output starts %.80q, want %q", res.Stdout, c.first)
			}
		})
	}
}
