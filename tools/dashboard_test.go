package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm/diagnose"
	"github.com/ocm-fleet/multicluster-mcp-server/tools/ui"
)

// rpc sends one JSON-RPC request to the server as a client would and decodes its result.
func rpc(t *testing.T, s *server.MCPServer, method string, params any, into any) {
	t.Helper()
	req, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
	out, err := json.Marshal(s.HandleMessage(context.Background(), req))
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		Result json.RawMessage `json:"result"`
		Error  any             `json:"error"`
	}
	if err := json.Unmarshal(out, &resp); err != nil || resp.Error != nil {
		t.Fatalf("%s: %v %v\n%s", method, err, resp.Error, out)
	}
	if err := json.Unmarshal(resp.Result, into); err != nil {
		t.Fatalf("%s: %v\n%s", method, err, resp.Result)
	}
}

// TestDashboardMatrix: the fixture fleet's matrix, as data and as text, without a diagnosis (the
// fixture has no clusters to connect to).
func TestDashboardMatrix(t *testing.T) {
	text, data, err := dashboardAnswer(context.Background(), fixtureDeps(), dashboardArgs{})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "fleet_dashboard.txt", text)
	want := []struct {
		name, health, available, joined, lease string
		healthy, degraded                      int
	}{
		{"new-edge", "critical", "Unknown", "Unknown", "unknown", 0, 0},
		{"west-stage", "critical", "Unknown", "True", "stale", 0, 1},
		{"east-prod", "warning", "True", "True", "fresh", 1, 1},
	}
	if len(data.Clusters) != len(want) || data.Total != 3 || data.Critical != 2 || data.Warning != 1 || data.Diagnosed || data.DiagnosisNote == "" {
		t.Fatalf("matrix %+v", data)
	}
	for i, w := range want {
		r := data.Clusters[i]
		if r.Name != w.name || r.Health != w.health || r.Available != w.available || r.Joined != w.joined || r.Lease != w.lease ||
			r.AddOnsHealthy != w.healthy || r.AddOnsDegraded != w.degraded || r.Findings != 0 {
			t.Errorf("row %d: %+v, want %+v", i, r, w)
		}
	}
	_, none, err := dashboardAnswer(context.Background(), fixtureDeps(), dashboardArgs{Selector: "env=none"})
	if err != nil || none.Total != 0 || none.Clusters == nil {
		t.Errorf("empty selection: %+v %v", none, err)
	}
}

// TestDashboardFindings: findings go to the clusters their subjects name, the first (worst) of each
// cluster is its top finding, and a finding raises a cluster's health as far as its severity.
func TestDashboardFindings(t *testing.T) {
	ok := func(name string) clusterRow {
		return clusterRow{name: name, joined: "True", available: "True", lease: ocm.LeaseState{Present: true, Age: time.Second, Duration: time.Minute},
			addOnsHealthy: 1, addOnsTotal: 1, cells: func() []string { return nil }}
	}
	rep := &diagnose.Report{Findings: []diagnose.Finding{
		{ID: "agent-down", Severity: diagnose.Critical, Subject: "cluster b"},
		{ID: "addon-placement-missing", Severity: diagnose.Critical, Subject: "add-on x"},
		{ID: "addon-unavailable", Severity: diagnose.Warning, Subject: "add-on x on cluster c"},
		{ID: "pod-crashlooping", Severity: diagnose.Warning, Subject: "cluster b"},
		{ID: "cluster-tainted", Severity: diagnose.Info, Subject: "cluster d"},
	}}
	hub := ok("local-cluster")
	hub.hub = true
	data := dashboardData([]clusterRow{ok("a"), ok("b"), ok("c"), ok("d"), hub}, rep, "")
	tests := []struct {
		name, health, worst, top string
		findings                 int
	}{
		{"b", "critical", "critical", "agent-down", 2},
		{"c", "warning", "warning", "addon-unavailable", 1},
		{"a", "ok", "", "", 0},
		{"d", "ok", "info", "cluster-tainted", 1},
		{"local-cluster", "ok", "", "", 0},
	}
	if !data.Diagnosed || data.FleetFindings != 1 || data.Critical != 1 || data.Warning != 1 || data.Healthy != 3 || len(data.Clusters) != len(tests) {
		t.Fatalf("matrix %+v", data)
	}
	for i, tc := range tests {
		r := data.Clusters[i]
		if r.Name != tc.name || r.Health != tc.health || r.Worst != tc.worst || r.Top != tc.top || r.Findings != tc.findings {
			t.Errorf("row %d: %+v, want %+v", i, r, tc)
		}
	}
	if !data.Clusters[4].Hub {
		t.Error("local-cluster is not marked as the hub")
	}
}

// TestDashboardLargeFleet: a fleet larger than the matrix keeps its problems and counts the healthy
// clusters it leaves out.
func TestDashboardLargeFleet(t *testing.T) {
	rows := make([]clusterRow, 0, maxDashboardRows+1000)
	for i := range maxDashboardRows + 1000 {
		r := clusterRow{name: fmt.Sprintf("c%05d", i), joined: "True", available: "True", lease: ocm.LeaseState{Present: true, Duration: time.Minute},
			cells: func() []string { return nil }}
		if i%1000 == 999 {
			r.available = "Unknown"
		}
		rows = append(rows, r)
	}
	data := dashboardData(rows, nil, "skipped")
	if data.Total != len(rows) || data.Critical != 6 || data.Omitted != 1000 || len(data.Clusters) != maxDashboardRows {
		t.Fatalf("total %d critical %d omitted %d rows %d", data.Total, data.Critical, data.Omitted, len(data.Clusters))
	}
	for i := range 6 {
		if r := data.Clusters[i]; r.Health != "critical" || r.Available != "Unknown" {
			t.Errorf("row %d: %+v, want the unavailable clusters first", i, r)
		}
	}
	if text := dashboardText(data); !strings.Contains(text, "1000 more cluster(s), the healthiest, are left out") {
		t.Errorf("the text does not count the clusters left out:\n%.300s", text[len(text)-300:])
	}
}

// TestDashboardRegistration: the tool points at the ui:// resource, the resource is an MCP App whose
// HTML fetches nothing, and the tool's result follows its schema.
func TestDashboardRegistration(t *testing.T) {
	s := server.NewMCPServer("test", "0", server.WithOutputSchemaValidation(), server.WithResourceCapabilities(false, false))
	Register(s, fixtureDeps())
	var tools struct {
		Tools []struct {
			Name string         `json:"name"`
			Meta map[string]any `json:"_meta"`
		} `json:"tools"`
	}
	rpc(t, s, "tools/list", map[string]any{}, &tools)
	var uri any
	for _, tool := range tools.Tools {
		if tool.Name == "fleet_dashboard" {
			uiMeta, _ := tool.Meta["ui"].(map[string]any)
			uri = uiMeta["resourceUri"]
		}
	}
	if uri != ui.DashboardURI {
		t.Fatalf("fleet_dashboard's _meta.ui.resourceUri is %v, want %s", uri, ui.DashboardURI)
	}
	var list mcp.ListResourcesResult
	rpc(t, s, "resources/list", map[string]any{}, &list)
	listed := false
	for _, r := range list.Resources {
		listed = listed || (r.URI == ui.DashboardURI && r.MIMEType == ui.MIMEType)
	}
	if !listed {
		t.Errorf("resources/list has no %s of type %s: %+v", ui.DashboardURI, ui.MIMEType, list.Resources)
	}
	var read struct {
		Contents []mcp.TextResourceContents `json:"contents"`
	}
	rpc(t, s, "resources/read", map[string]any{"uri": ui.DashboardURI}, &read)
	if len(read.Contents) != 1 || read.Contents[0].MIMEType != ui.MIMEType || !strings.HasPrefix(read.Contents[0].Text, "<!doctype html>") {
		t.Fatalf("resources/read: %+v", read.Contents)
	}
	html := read.Contents[0].Text
	if u := regexp.MustCompile(`(?i)https?:|//[a-z0-9-]+\.[a-z]|\bsrc=|<link|@import|url\(|fetch\(|XMLHttpRequest|WebSocket`).FindString(html); u != "" {
		t.Errorf("the dashboard refers to something outside itself: %q", u)
	}
	for _, want := range []string{`"ui/initialize"`, `"ui/notifications/initialized"`, `"ui/notifications/tool-result"`, `"tools/call"`, `"cluster_status"`} {
		if !strings.Contains(html, want) {
			t.Errorf("the dashboard lacks %s", want)
		}
	}
	var res mcp.CallToolResult
	rpc(t, s, "tools/call", map[string]any{"name": "fleet_dashboard", "arguments": map[string]any{}}, &res)
	if res.IsError || res.StructuredContent == nil {
		t.Fatalf("fleet_dashboard: %+v", res)
	}
	if ext, ok := Extensions()[ui.Extension]; !ok || ext == nil {
		t.Errorf("the extensions do not declare %s: %v", ui.Extension, Extensions())
	}
}
