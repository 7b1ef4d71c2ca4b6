package tools

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

func TestCompletions(t *testing.T) {
	_, books := engineAndRunbooks(t)
	d := fixtureDeps()
	d.Runbooks = books
	c := NewCompletions(d)
	s := server.NewMCPServer("test", "0", server.WithCompletions(), server.WithPromptCompletionProvider(c), server.WithResourceCompletionProvider(c))
	Register(s, d)
	complete := func(ref map[string]any, name, value string, args map[string]string) mcp.Completion {
		t.Helper()
		params := map[string]any{"ref": ref, "argument": map[string]any{"name": name, "value": value}}
		if args != nil {
			params["context"] = map[string]any{"arguments": args}
		}
		req, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "completion/complete", "params": params})
		out, _ := json.Marshal(s.HandleMessage(context.Background(), req))
		var resp struct {
			Result struct {
				Completion mcp.Completion `json:"completion"`
			} `json:"result"`
			Error any `json:"error"`
		}
		if err := json.Unmarshal(out, &resp); err != nil || resp.Error != nil {
			t.Fatalf("%s=%q: %v %s", name, value, err, out)
		}
		return resp.Result.Completion
	}
	prompt := func(name string) map[string]any { return map[string]any{"type": "ref/prompt", "name": name} }
	if got := complete(prompt("troubleshoot_cluster"), "cluster", "east", nil); strings.Join(got.Values, ",") != "east-prod" {
		t.Errorf("clusters east*: %+v", got)
	}
	if got := complete(prompt("troubleshoot_cluster"), "cluster", "", nil); len(got.Values) < 3 || got.Values[len(got.Values)-1] == "" || !slices.Contains(got.Values, "hub") {
		t.Errorf("every cluster and hub: %+v", got)
	}
	if got := complete(prompt("troubleshoot_addon"), "addon", "", nil); len(got.Values) == 0 {
		t.Errorf("add-ons: %+v", got)
	}
	tmpl := map[string]any{"type": "ref/resource", "uri": "runbook://{source}/{name}"}
	if got := complete(tmpl, "name", "addon-", map[string]string{"source": "ocm"}); !slices.Contains(got.Values, "addon-unavailable") || !slices.Contains(got.Values, "addon-not-created") {
		t.Errorf("runbooks addon-*: %+v", got)
	}
	if got := complete(tmpl, "source", "", nil); strings.Join(got.Values, ",") != "ocm" {
		t.Errorf("runbook sources: %+v", got)
	}
	// Without a cluster (or a connection) there are no namespaces to offer, and no error.
	if got := complete(prompt("troubleshoot_workload"), "namespace", "", nil); len(got.Values) != 0 {
		t.Errorf("namespaces without a cluster: %+v", got)
	}
}
