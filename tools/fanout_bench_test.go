package tools

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/kubectl"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

// namespacesAPI answers discovery of core/v1 and a list of 15 namespaces as a server-side table, the
// size of a small real cluster's answer to `get namespaces`.
func namespacesAPI() http.Handler {
	var rows []string
	for i := range 15 {
		rows = append(rows, fmt.Sprintf(`{"cells":["namespace-%02d","Active","3h"],"object":{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"namespace-%02d","uid":"6a0d1f0e-2b9c-4f7e-9d3c-%012d","resourceVersion":"%d","creationTimestamp":"2026-01-01T00:00:00Z","labels":{"kubernetes.io/metadata.name":"namespace-%02d"}}}}`, i, i, i, 100+i, i))
	}
	table := `{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"1"},"columnDefinitions":[{"name":"Name","type":"string","format":"name"},{"name":"Status","type":"string"},{"name":"Age","type":"string"}],"rows":[` + strings.Join(rows, ",") + `]}`
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api":
			fmt.Fprint(w, `{"kind":"APIVersions","versions":["v1"]}`)
		case "/apis":
			fmt.Fprint(w, `{"kind":"APIGroupList","apiVersion":"v1","groups":[]}`)
		case "/api/v1":
			fmt.Fprint(w, `{"kind":"APIResourceList","groupVersion":"v1","resources":[{"name":"namespaces","singularName":"namespace","namespaced":false,"kind":"Namespace","verbs":["get","list"],"shortNames":["ns"]}]}`)
		case "/api/v1/namespaces":
			fmt.Fprint(w, table)
		default:
			http.NotFound(w, r)
		}
	})
}

// tlsClusters gives every target the same in-process TLS API server, each under its own name (so each
// has its own connection and discovery in the engine).
type tlsClusters struct{ srv *httptest.Server }

func (c tlsClusters) RESTConfig(_ context.Context, t ocm.Target) (*rest.Config, error) {
	// A dialer of its own, as the server's spoke configs have: each cluster gets its own transport and
	// HTTP/2 connection, as it would to a spoke of its own.
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	return &rest.Config{Host: c.srv.URL + "/", TLSClientConfig: rest.TLSClientConfig{Insecure: true}, BearerToken: "t-" + t.Name,
		Dial: dialer.DialContext}, nil
}
func (tlsClusters) Provisioned(string) bool                          { return true }
func (tlsClusters) CredentialState(context.Context, string) []string { return nil }

// BenchmarkFanOutInProcess: the server's own work for a warm `kubectl get namespaces` fan-out over 100
// clusters (tools, engine, TLS, merging and the answer's cap), each on its own HTTP/2 connection to one
// in-process TLS API server that answers at once: no MCP, no HTTP front, no authorization, no latency.
// The first call (connections, discovery) is not timed.
func BenchmarkFanOutInProcess(b *testing.B) {
	srv := httptest.NewUnstartedServer(namespacesAPI())
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	engine, err := kubectl.NewEngine(kubectl.Options{WorkDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	src, _ := bigFleet(100) // every 250th is unavailable: none of these 100
	names := make([]string, len(src.Clusters))
	for i, mc := range src.Clusters {
		names[i] = mc.Name
	}
	d := Deps{Source: src, Clusters: tlsClusters{srv}, Kubectl: engine, FanOutConcurrency: 128, MaxOutputBytes: 32 << 10}
	args := callArgs{cluster: strings.Join(names, ","), command: "get namespaces", timeout: "1m"}
	if res, _ := d.kubectlCall(context.Background(), kubectl.ReadTool, args); res.IsError {
		b.Fatalf("%v", res.Content)
	}
	for b.Loop() {
		if res, _ := d.kubectlCall(context.Background(), kubectl.ReadTool, args); res.IsError {
			b.Fatalf("%v", res.Content)
		}
	}
}
