package tools

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/ocm-fleet/multicluster-mcp-server/auth"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/audit"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/index"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/output"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

// Bounds of the index tools.
const (
	defaultIndexRows    = 200
	maxIndexRows        = 2000
	defaultIndexTimeout = 10 * time.Second
	maxIndexTimeout     = time.Minute
	// maxNamedNotIndexed bounds how many clusters not indexed an answer names; the rest are counted.
	maxNamedNotIndexed = 50
)

type fleetSQLArgs struct {
	Query   string `json:"query" jsonschema:"One SELECT (or WITH ... SELECT) over k8s_resource, k8s_history and k8s_cluster"`
	Limit   int    `json:"limit,omitempty" jsonschema:"Most rows shown (default 200, at most 2000); the answer says how many more there were"`
	Timeout string `json:"timeout,omitempty" jsonschema:"Time limit of the query, e.g. 20s (default 10s, at most 1m)"`
}

type fleetHistoryArgs struct {
	Cluster   string `json:"cluster,omitempty" jsonschema:"A ManagedCluster name or hub, or a comma-separated list; default: every cluster you may read"`
	Since     string `json:"since,omitempty" jsonschema:"How far back, e.g. 1h or 30m (default 1h)"`
	Kind      string `json:"kind,omitempty" jsonschema:"Only this kind, e.g. Deployment or pods"`
	Namespace string `json:"namespace,omitempty" jsonschema:"Only this namespace"`
	Name      string `json:"name,omitempty" jsonschema:"Only objects of this name (with kind: one object's timeline)"`
	Change    string `json:"change,omitempty" jsonschema:"Only this change: created, deleted, updated, status or condition"`
	Limit     int    `json:"limit,omitempty" jsonschema:"Most changes shown, newest first (default 200, at most 2000)"`
}

// jsonHelp says how JSON is read in the store's dialect.
func jsonHelp(d index.Dialect) string {
	if d == index.Postgres {
		return "The engine is PostgreSQL: labels and payload are jsonb: payload->'status'->>'phase', payload #>> '{status,phase}', " +
			"labels->>'app', labels @> '{\"app\":\"web\"}', jsonb_array_elements(payload->'status'->'initContainerStatuses'); " +
			"times are timestamptz (at > now() - interval '1 hour')."
	}
	return "The engine is SQLite: labels and payload are JSON text: payload->>'$.status.phase', labels->>'$.app', " +
		"json_each(payload->'$.status.initContainerStatuses') (its value->>'$.state.waiting.reason'); " +
		"times are UTC text 'YYYY-MM-DD HH:MM:SS.SSS' (at > datetime('now','-1 hour'))."
}

func fleetSQLTool(d Deps) server.ServerTool {
	example := "select cluster, namespace, name, payload->>'$.status.phase' from k8s_resource where kind = 'Pod' and exists " +
		"(select 1 from json_each(payload->'$.status.initContainerStatuses') c where c.value->>'$.state.waiting.reason' is not null)"
	if d.Index.Dialect() == index.Postgres {
		example = "select cluster, namespace, name, payload->'status'->>'phase' from k8s_resource where kind = 'Pod' and exists " +
			"(select 1 from jsonb_array_elements(payload->'status'->'initContainerStatuses') c where c->'state'->'waiting'->>'reason' is not null)"
	}
	tool := mcp.NewTool("fleet_sql",
		mcp.WithTitleAnnotation("SQL over the fleet index"),
		mcp.WithDescription("Answer \"where is X, and since when\" over every cluster at once from the server's fleet index, "+
			"without asking the clusters: one read-only SELECT (or WITH ... SELECT) over these views, which hold only the clusters you may read: "+
			index.Schema+" "+jsonHelp(d.Index.Dialect())+" Example (pods with a failing init container): "+example+". "+
			"Answers start with the row count and each cluster's data age, and name the clusters the index does not hold; at most "+
			"200 rows are shown unless limit says, with how many more there were. Anything but one SELECT is refused (no writes, PRAGMA, "+
			"ATTACH, extensions, catalogs or several statements). For what changed recently use fleet_history."),
		mcp.WithInputSchema[fleetSQLArgs](),
		mcp.WithReadOnlyHintAnnotation(true),
		mcp.WithDestructiveHintAnnotation(false),
		mcp.WithIdempotentHintAnnotation(true),
		mcp.WithOpenWorldHintAnnotation(false),
	)
	handler := mcp.NewTypedToolHandler(func(ctx context.Context, _ mcp.CallToolRequest, args fleetSQLArgs) (*mcp.CallToolResult, error) {
		limit, timeout, err := indexBounds(args.Limit, args.Timeout)
		if err != nil {
			return mcp.NewToolResultError(err.Error()), nil
		}
		return d.indexAnswer(ctx, args.Query, limit, timeout, nil, ""), nil
	})
	return server.ServerTool{Tool: tool, Handler: handler}
}

func fleetHistoryTool(d Deps) server.ServerTool {
	tool := mcp.NewTool("fleet_history",
		mcp.WithTitleAnnotation("What changed in the fleet"),
		mcp.WithDescription("What changed on a cluster (or on every cluster you may read) since a time, newest first, from the fleet index's "+
			"k8s_history: objects created and deleted, spec updates (generation, replicas, images), status changes (phase, ready replicas, "+
			"each container's state) and condition transitions, each with its time, old and new value. With kind, namespace and name it is "+
			"one object's timeline. E.g. cluster=spoke1 since=1h: what changed on spoke1 in the last hour. For other questions, "+
			"fleet_sql queries k8s_history directly."),
		mcp.WithInputSchema[fleetHistoryArgs](),
		mcp.WithReadOnlyHintAnnotation(true),
		mcp.WithDestructiveHintAnnotation(false),
		mcp.WithIdempotentHintAnnotation(true),
		mcp.WithOpenWorldHintAnnotation(false),
	)
	handler := mcp.NewTypedToolHandler(func(ctx context.Context, _ mcp.CallToolRequest, args fleetHistoryArgs) (*mcp.CallToolResult, error) {
		limit, _, err := indexBounds(args.Limit, "")
		if err != nil {
			return mcp.NewToolResultError(err.Error()), nil
		}
		q, only, what, err := d.historyQuery(ctx, args)
		if err != nil {
			return mcp.NewToolResultError(err.Error()), nil
		}
		return d.indexAnswer(ctx, q, limit, defaultIndexTimeout, only, what), nil
	})
	return server.ServerTool{Tool: tool, Handler: handler}
}

func indexBounds(limit int, timeout string) (int, time.Duration, error) {
	switch {
	case limit == 0:
		limit = defaultIndexRows
	case limit < 0 || limit > maxIndexRows:
		return 0, 0, fmt.Errorf("limit %d is out of range: 1 to %d", limit, maxIndexRows)
	}
	t := defaultIndexTimeout
	if timeout != "" {
		var err error
		if t, err = time.ParseDuration(timeout); err != nil {
			return 0, 0, fmt.Errorf("timeout %q is not a duration: use e.g. 20s", timeout)
		}
		if t <= 0 || t > maxIndexTimeout {
			return 0, 0, fmt.Errorf("timeout %s is out of range: up to %s", t, maxIndexTimeout)
		}
	}
	return limit, t, nil
}

// sqlString quotes a value as an SQL string literal.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// historyQuery builds fleet_history's statement; only is the clusters it names (nil: all), what says
// what it asks, for the summary line.
func (d Deps) historyQuery(ctx context.Context, a fleetHistoryArgs) (string, []string, string, error) {
	since := time.Hour
	if a.Since != "" {
		var err error
		if since, err = time.ParseDuration(a.Since); err != nil || since <= 0 {
			return "", nil, "", fmt.Errorf("since %q is not a positive duration: use e.g. 1h or 30m", a.Since)
		}
	}
	cutoff := d.Now().Add(-since).UTC()
	cut := sqlString(cutoff.Format("2006-01-02 15:04:05.000"))
	where := []string{"at >= " + cut}
	var only []string
	if a.Cluster != "" && a.Cluster != "*" {
		for _, n := range strings.Split(a.Cluster, ",") {
			n = strings.TrimSpace(n)
			if n == "" {
				continue
			}
			t, err := ocm.Resolve(ctx, d.Source, n)
			if err != nil {
				return "", nil, "", err
			}
			only = append(only, t.Name)
		}
		quoted := make([]string, len(only))
		for i, n := range only {
			quoted[i] = sqlString(n)
		}
		where = append(where, "cluster IN ("+strings.Join(quoted, ", ")+")")
	}
	if a.Kind != "" {
		k := strings.ToLower(a.Kind)
		alts := []string{sqlString(k), sqlString(strings.TrimSuffix(k, "s")), sqlString(strings.TrimSuffix(k, "es"))}
		where = append(where, "lower(kind) IN ("+strings.Join(alts, ", ")+")")
	}
	if a.Namespace != "" {
		where = append(where, "namespace = "+sqlString(a.Namespace))
	}
	if a.Name != "" {
		where = append(where, "name = "+sqlString(a.Name))
	}
	if a.Change != "" {
		switch a.Change {
		case index.ChangeCreated, index.ChangeDeleted, index.ChangeUpdated, index.ChangeStatus, index.ChangeCondition:
		default:
			return "", nil, "", fmt.Errorf("change %q is not one of created, deleted, updated, status, condition", a.Change)
		}
		where = append(where, "change = "+sqlString(a.Change))
	}
	q := "SELECT at, cluster, kind, CASE WHEN namespace = '' THEN name ELSE namespace || '/' || name END AS object, change, " +
		"coalesce(field, '') AS field, coalesce(old, '') AS old, coalesce(new, '') AS new FROM k8s_history WHERE " +
		strings.Join(where, " AND ") + " ORDER BY at DESC, cluster, object"
	what := "changes since " + cutoff.Format("2006-01-02 15:04:05") + " UTC (the last " + duration.HumanDuration(since) + ")"
	if len(only) > 0 {
		what += " on " + strings.Join(only, ", ")
	}
	return q, only, what, nil
}

// indexScope is what the caller may see of the index, and the fleet's clusters it may read.
func (d Deps) indexScope(ctx context.Context, states []index.ClusterState) (index.Scope, []string, error) {
	names := map[string]bool{}
	for _, s := range states {
		names[s.Cluster] = true
	}
	if d.Source != nil {
		mcs, err := d.Source.ManagedClusters(ctx, labels.Everything())
		if err == nil {
			for _, mc := range append(mcs, ocm.UnregisteredClusters(d.Source)...) {
				n := mc.Name
				if ocm.IsLocalCluster(mc) {
					n = ocm.HubName
				}
				names[n] = true
			}
		}
	}
	names[ocm.HubName] = true
	all := make([]string, 0, len(names))
	for n := range names {
		all = append(all, n)
	}
	sort.Strings(all)
	if d.Authz == nil || auth.CallerFrom(ctx) == nil {
		return index.Scope{All: true}, all, nil
	}
	var spokes []string
	for _, n := range all {
		if n != ocm.HubName {
			spokes = append(spokes, n)
		}
	}
	errs := d.allowedMany(ctx, spokes, false)
	var allowed []string
	for i, n := range spokes {
		if errs[i] == nil {
			allowed = append(allowed, n)
		}
	}
	hub, err := ocm.Resolve(ctx, d.Source, ocm.HubName)
	if err != nil {
		hub = ocm.Target{Name: ocm.HubName, Hub: true}
	}
	if d.readable(ctx, hub) == nil {
		allowed = append(allowed, ocm.HubName)
	}
	sort.Strings(allowed)
	return index.Scope{Clusters: allowed}, allowed, nil
}

// indexAnswer runs a statement over the caller's scope and renders the answer: summary line,
// freshness, table, what was not shown.
func (d Deps) indexAnswer(ctx context.Context, stmt string, limit int, timeout time.Duration, only []string, what string) *mcp.CallToolResult {
	states, err := d.Index.Clusters(ctx)
	if err != nil {
		return mcp.NewToolResultError("the fleet index cannot be read: " + err.Error())
	}
	scope, readable, err := d.indexScope(ctx, states)
	if err != nil {
		return mcp.NewToolResultError(err.Error())
	}
	if len(only) > 0 {
		ok := map[string]bool{}
		for _, n := range readable {
			ok[n] = true
		}
		for _, n := range only {
			if !ok[n] {
				audit.Denied(ctx, n)
				return mcp.NewToolResultError(fmt.Sprintf("you may not read cluster %s", n))
			}
		}
		readable = only
	}
	if !scope.All && len(scope.Clusters) == 0 {
		return mcp.NewToolResultError("you may read no cluster of this fleet, so the index shows you nothing")
	}
	res, err := d.Index.Query(ctx, stmt, scope, limit, timeout)
	if err != nil {
		var refused *index.StatementError
		if errors.As(err, &refused) {
			audit.Refused(ctx, err.Error())
		}
		return mcp.NewToolResultError(err.Error() + "\n" + freshness(d, states, readable))
	}
	var b strings.Builder
	n := int64(len(res.Rows))
	if what == "" {
		what = "rows"
	}
	switch {
	case res.More == 0:
		fmt.Fprintf(&b, "%d %s", n, what)
	case res.MoreAtLeast:
		fmt.Fprintf(&b, "%d %s shown of more than %d", n, what, n+res.More)
	default:
		fmt.Fprintf(&b, "%d %s shown of %d", n, what, n+res.More)
	}
	fmt.Fprintf(&b, " (%s, %s).\n", d.Index.Dialect(), res.Elapsed.Round(time.Millisecond))
	b.WriteString(freshness(d, states, readable))
	if len(res.Rows) > 0 {
		t := output.Table{Header: res.Columns}
		capCell := max(120, d.MaxOutputBytes/max(1, len(res.Rows)*len(res.Columns)))
		for _, r := range res.Rows {
			for i, c := range r {
				if len(c) > capCell {
					r[i] = c[:capCell] + fmt.Sprintf("...(%d bytes more)", len(c)-capCell)
				}
			}
			t.Rows = append(t.Rows, r)
		}
		b.WriteString(t.String())
	}
	if res.More > 0 {
		more := fmt.Sprintf("%d", res.More)
		if res.MoreAtLeast {
			more = "at least " + more
		}
		fmt.Fprintf(&b, "[%s more row(s) not shown: narrow the WHERE clause, aggregate with GROUP BY, or raise limit]\n", more)
	}
	hint := "select fewer columns (payload->>'$.path' instead of payload), narrow the WHERE clause, or lower limit"
	return mcp.NewToolResultText(output.Truncate(b.String(), d.MaxOutputBytes, hint))
}

// freshness says how old each readable cluster's data is and names the clusters the index does not
// hold, with why.
func freshness(d Deps, states []index.ClusterState, readable []string) string {
	ok := map[string]bool{}
	for _, n := range readable {
		ok[n] = true
	}
	now := d.Now()
	type aged struct {
		name string
		age  time.Duration
	}
	var fresh []aged
	var missing []string // "name (why)"
	seen := map[string]bool{}
	for _, s := range states {
		if !ok[s.Cluster] {
			continue
		}
		seen[s.Cluster] = true
		if s.Indexed() {
			fresh = append(fresh, aged{s.Cluster, max(now.Sub(s.Synced), 0)})
			if s.State == index.StateRetrying && s.Error != "" {
				missing = append(missing, fmt.Sprintf("%s (stale since %s: %s)", s.Cluster, s.Synced.UTC().Format(time.RFC3339), oneLine(s.Error)))
			}
			continue
		}
		why := s.State
		if s.Error != "" {
			why += ": " + oneLine(s.Error)
		}
		missing = append(missing, s.Cluster+" ("+why+")")
	}
	for _, n := range readable {
		if !seen[n] {
			missing = append(missing, n+" (not seen by the index yet)")
		}
	}
	var b strings.Builder
	sort.Slice(fresh, func(i, j int) bool {
		return fresh[i].age > fresh[j].age || (fresh[i].age == fresh[j].age && fresh[i].name < fresh[j].name)
	})
	age := func(a aged) string { return a.name + " " + duration.HumanDuration(a.age) }
	switch {
	case len(fresh) == 0:
		b.WriteString("Index: no cluster you may read is indexed yet.")
	case d.Offline:
		fmt.Fprintf(&b, "Index: %d cluster(s) from the must-gather collected %s.", len(fresh), now.UTC().Format(time.RFC3339))
	case len(fresh) <= 10:
		parts := make([]string, len(fresh))
		for i, a := range fresh {
			parts[i] = age(a)
		}
		fmt.Fprintf(&b, "Index: %d cluster(s), data age: %s.", len(fresh), strings.Join(parts, ", "))
	default:
		parts := make([]string, 0, 5)
		for _, a := range fresh[:5] {
			parts = append(parts, age(a))
		}
		fmt.Fprintf(&b, "Index: %d cluster(s), data age median %s, oldest: %s.", len(fresh),
			duration.HumanDuration(fresh[len(fresh)/2].age), strings.Join(parts, ", "))
	}
	if len(missing) > 0 {
		fmt.Fprintf(&b, " Not indexed (%d): %s.", len(missing), groupReasons(missing))
	}
	b.WriteString("\n")
	return b.String()
}

// groupReasons names clusters by reason, "a, b (why); c (other)", at most maxNamedNotIndexed names.
func groupReasons(missing []string) string {
	byWhy := map[string][]string{}
	var order []string
	for _, m := range missing {
		name, why, _ := strings.Cut(m, " (")
		if _, ok := byWhy[why]; !ok {
			order = append(order, why)
		}
		byWhy[why] = append(byWhy[why], name)
	}
	sort.Strings(order)
	parts := make([]string, 0, len(order))
	left := maxNamedNotIndexed
	for _, why := range order {
		names := byWhy[why]
		sort.Strings(names)
		parts = append(parts, nameList(names, max(left, 1))+" ("+why)
		left -= len(names)
	}
	return strings.Join(parts, "; ")
}
