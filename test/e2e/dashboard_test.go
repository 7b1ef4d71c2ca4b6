package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clusterv1 "open-cluster-management.io/api/cluster/v1"

	"github.com/ocm-fleet/multicluster-mcp-server/test/fleet"
	"github.com/ocm-fleet/multicluster-mcp-server/tools"
	"github.com/ocm-fleet/multicluster-mcp-server/tools/ui"
)

// TestFleetDashboard: over Streamable HTTP, the server declares MCP Apps, fleet_dashboard points at its
// ui:// resource, and the app, rendered by headless Chromium in a test host fed with the real tool
// result, shows the fleet: spoke3, its registration agent stopped, in red as Unknown and first, the hub
// as local-cluster; a click on spoke3 calls cluster_status through the host and shows its verdict. The
// screenshot is kept in test-artifacts/.
func TestFleetDashboard(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	srv := startHTTPServer(t, "--kubeconfig", env.hubKubeconfig, "--read-only", "--msa-name", roMSA, "--cluster-timeout", "4s")
	// The fleet's operator may read every cluster.
	tr, err := transport.NewStreamableHTTP(srv.base+"/mcp", transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + fleet.OperatorToken}))
	if err != nil {
		t.Fatal(err)
	}
	c := client.NewClient(tr)
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	init := initialize(t, ctx, c, srv.logs)
	if _, ok := init.Capabilities.Extensions[ui.Extension]; !ok {
		t.Errorf("initialize does not declare %s: %+v", ui.Extension, init.Capabilities.Extensions)
	}

	// Credentials while spoke3 is up, then its registration agent stops and the hub loses its lease.
	if text, isErr := callTool(t, c, "cluster_status", map[string]any{"cluster": "spoke3"}); isErr || !strings.Contains(text, "Cluster spoke3: Healthy") {
		t.Fatalf("spoke3 not healthy at the start:\n%s", text)
	}
	stopUntilCleanup(t, env.fleet.Spoke("spoke3").RegistrationAgent, "spoke3")
	if err := env.fleet.WaitClusterCondition(ctx, "spoke3", clusterv1.ManagedClusterConditionAvailable, metav1.ConditionUnknown, 2*time.Minute); err != nil {
		t.Fatal(err)
	}

	html := dashboardResource(t, ctx, c)
	began := time.Now()
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = "fleet_dashboard", map[string]any{}
	result, err := c.CallTool(ctx, req)
	if err != nil || result.IsError || result.StructuredContent == nil {
		t.Fatalf("fleet_dashboard: %v %+v", err, result)
	}
	t.Logf("fleet_dashboard answered in %s", time.Since(began).Round(time.Millisecond))
	var data tools.DashboardData
	raw, _ := json.Marshal(result.StructuredContent)
	if err := json.Unmarshal(raw, &data); err != nil {
		t.Fatal(err)
	}
	names := env.fleet.ManagedClusterNames()
	if data.Total != len(names) || !data.Diagnosed || len(data.Clusters) != len(names) || data.Clusters[0].Name != "spoke3" {
		t.Fatalf("dashboard data: %s", raw)
	}

	host := newAppHost(t, c, html, result)
	bctx := browser(t)
	bctx, cancelB := context.WithTimeout(bctx, 2*time.Minute)
	defer cancelB()
	var frames []*cdp.Node
	if err := chromedp.Run(bctx, chromedp.Navigate(host.srv.URL+"/"), chromedp.Nodes("#app", &frames, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	in := chromedp.FromNode(frames[0])
	if err := chromedp.Run(bctx, chromedp.WaitVisible(`tr[data-cluster="spoke3"]`, chromedp.ByQuery, in)); err != nil {
		t.Fatalf("the dashboard drew no row for spoke3: %v", err)
	}
	get := func(cluster, col string) cell {
		t.Helper()
		var c cell
		var ok bool
		sel := `tr[data-cluster="` + cluster + `"] td[data-col="` + col + `"]`
		if err := chromedp.Run(bctx, chromedp.Text(sel, &c.text, chromedp.ByQuery, in), chromedp.AttributeValue(sel, "data-level", &c.level, &ok, chromedp.ByQuery, in)); err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		return c
	}

	// The cells against the fleet: spoke3 lost, the others up; every row as the data says.
	wantCells := []struct {
		cluster, col, text, level string
	}{
		{"spoke3", "health", "Critical", "bad"},
		{"spoke3", "available", "Unknown", "bad"},
		{"spoke3", "joined", "True", "ok"},
		{"spoke3", "lease", "stale", "bad"},
		{"spoke1", "available", "True", "ok"},
		{"spoke2", "available", "True", "ok"},
		{"local-cluster", "available", "True", "ok"},
		{"local-cluster", "joined", "True", "ok"},
		{"local-cluster", "lease", "fresh", "ok"},
	}
	for _, w := range wantCells {
		if got := get(w.cluster, w.col); !strings.HasPrefix(got.text, w.text) || got.level != w.level {
			t.Errorf("%s %s: %s, want %q (%s)", w.cluster, w.col, got, w.text, w.level)
		}
	}
	for _, r := range data.Clusters {
		if got := get(r.Name, "available"); got.text != r.Available {
			t.Errorf("%s available %s, the data says %s", r.Name, got, r.Available)
		}
		if got := get(r.Name, "findings"); r.Findings > 0 && !strings.Contains(got.text, r.Worst) {
			t.Errorf("%s findings %s, the data says %d, worst %s", r.Name, got, r.Findings, r.Worst)
		}
	}
	if f := get("spoke3", "findings"); f.level != "bad" || !strings.Contains(f.text, "critical") {
		t.Errorf("spoke3's findings: %s, want its critical finding (agent-down)", f)
	}
	var order []string
	var hub string
	if err := chromedp.Run(bctx, chromedp.Text(`tr[data-cluster="local-cluster"] .hub`, &hub, chromedp.ByQuery, in)); err != nil || hub != "(hub)" {
		t.Errorf("local-cluster is not marked as the hub: %q %v", hub, err)
	}
	var rows []*cdp.Node
	if err := chromedp.Run(bctx, chromedp.Nodes(`#rows tr`, &rows, chromedp.ByQueryAll, in)); err != nil {
		t.Fatal(err)
	}
	for _, n := range rows {
		order = append(order, n.AttributeValue("data-cluster"))
	}
	if !slices.Equal(order, clusterNames(data)) {
		t.Errorf("rows %v, want the data's order %v", order, clusterNames(data))
	}
	if len(order) != len(names) || order[0] != "spoke3" {
		t.Errorf("rows %v: want %d, spoke3 first", order, data.Total)
	}

	// A click asks cluster_status through the host and shows the verdict.
	var verdict, cause string
	if err := chromedp.Run(bctx,
		chromedp.Click(`tr[data-cluster="spoke3"] td.name button`, chromedp.ByQuery, in),
		chromedp.WaitVisible(`#detail[data-state="done"]`, chromedp.ByQuery, in),
		chromedp.Text(`#detail-verdict`, &verdict, chromedp.ByQuery, in),
		chromedp.Text(`#detail-cause`, &cause, chromedp.ByQuery, in)); err != nil {
		t.Fatalf("clicking spoke3: %v", err)
	}
	calls := host.toolCalls()
	if len(calls) != 1 || calls[0].Name != "cluster_status" || !strings.Contains(string(mustJSON(t, calls[0].Arguments)), `"cluster":"spoke3"`) {
		t.Errorf("the app asked the host for %+v, want cluster_status of spoke3", calls)
	}
	if verdict != "Unknown" || !strings.Contains(cause, "registration agent") {
		t.Errorf("the detail shows %q / %q, want spoke3's verdict Unknown and its cause", verdict, cause)
	}
	var bridge []string
	if err := chromedp.Run(bctx, chromedp.Evaluate(`window.bridgeLog`, &bridge)); err != nil {
		t.Fatal(err)
	}
	if len(bridge) < 3 || bridge[0] != "ui/initialize" || bridge[1] != "ui/notifications/initialized" || !slices.Contains(bridge, "tools/call") {
		t.Errorf("the app's messages %v: want ui/initialize, ui/notifications/initialized, then tools/call", bridge)
	}
	for _, p := range host.requested() {
		if p != "/" && p != "/call" && p != "/favicon.ico" {
			t.Errorf("the browser asked for %s", p)
		}
	}
	saveScreenshot(t, bctx)
}

// dashboardResource checks that fleet_dashboard points at a listed ui:// MCP App that fetches nothing,
// and returns its HTML.
func dashboardResource(t *testing.T, ctx context.Context, c *client.Client) string {
	t.Helper()
	list, err := c.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var uri any
	for _, tool := range list.Tools {
		if tool.Name == "fleet_dashboard" && tool.Meta != nil {
			m, _ := tool.Meta.AdditionalFields["ui"].(map[string]any)
			uri = m["resourceUri"]
		}
	}
	if uri != ui.DashboardURI {
		t.Fatalf("fleet_dashboard's _meta.ui.resourceUri is %v, want %s", uri, ui.DashboardURI)
	}
	res, err := c.ReadResource(ctx, mcp.ReadResourceRequest{Params: mcp.ReadResourceParams{URI: ui.DashboardURI}})
	if err != nil || len(res.Contents) != 1 {
		t.Fatalf("resources/read %s: %v %+v", ui.DashboardURI, err, res)
	}
	tc, ok := mcp.AsTextResourceContents(res.Contents[0])
	if !ok || tc.MIMEType != ui.MIMEType || !strings.Contains(tc.Text, "<table") {
		t.Fatalf("resources/read %s: %+v", ui.DashboardURI, res.Contents[0])
	}
	if lower := strings.ToLower(tc.Text); strings.Contains(lower, "http:") || strings.Contains(lower, "https:") {
		t.Errorf("the dashboard's HTML holds an http(s) URL")
	}
	return tc.Text
}

// saveScreenshot keeps the page as test-artifacts/fleet-dashboard.png and checks that it is a real
// picture of the matrix: a PNG of the window's size with the red and green of the cells in it.
func saveScreenshot(t *testing.T, ctx context.Context) {
	t.Helper()
	var shot []byte
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&shot, 100)); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(fleet.ModuleRoot(), "test-artifacts")
	path := filepath.Join(dir, "fleet-dashboard.png")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(shot))
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("the screenshot is no PNG: %v", err)
	}
	b := img.Bounds()
	// The cells' backgrounds (tools/ui/dashboard.html): bad and ok.
	red, green := color.RGBA{0xff, 0xd8, 0xd3, 0xff}, color.RGBA{0xda, 0xfb, 0xe1, 0xff}
	seen := map[color.RGBA]int{}
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), 0xff}]++
		}
	}
	if b.Dx() < 1000 || b.Dy() < 400 || len(seen) < 20 || seen[red] < 100 || seen[green] < 100 {
		t.Errorf("the screenshot %s is %dx%d with %d colours, %d red and %d green samples: not the matrix", path, b.Dx(), b.Dy(), len(seen), seen[red], seen[green])
	}
}

func clusterNames(d tools.DashboardData) []string {
	var out []string
	for _, r := range d.Clusters {
		out = append(out, r.Name)
	}
	return out
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
