package tools

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/kubectl"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/output"
)

// An aggregate answers a question over many clusters with counts instead of rows, so that it fits in one
// answer at any fleet size: the rows each cluster printed, or their count by the value of one column.
type aggregate struct {
	// column is the column to group by, as the caller wrote it; "" counts rows only.
	column string
}

// Bounds of an aggregate answer: how many values of the grouped column the fleet-wide table shows, and how
// many each cluster's line names.
const (
	maxAggregateValues   = 50
	maxValuesPerCluster  = 8
	maxAggregateColumnSz = 64
)

// aggregateVerbs print tables.
var aggregateVerbs = map[string]bool{"get": true, "events": true, "api-resources": true, "top": true}

// parseAggregate reads the aggregate argument: "" (none), "count", or "group-by:<COLUMN>". The command must
// print a table with headers.
func parseAggregate(arg string, plan *kubectl.Plan) (*aggregate, error) {
	arg = strings.TrimSpace(arg)
	if arg == "" {
		return nil, nil
	}
	var a aggregate
	switch {
	case arg == "count":
	case strings.HasPrefix(arg, "group-by:"):
		a.column = strings.TrimSpace(strings.TrimPrefix(arg, "group-by:"))
		if a.column == "" || len(a.column) > maxAggregateColumnSz {
			return nil, fmt.Errorf("aggregate %q names no column: use group-by:<COLUMN> with a column of the table, e.g. group-by:STATUS", truncate(arg, 80))
		}
	default:
		return nil, fmt.Errorf("aggregate %q is not one of: count (rows per cluster and in all), group-by:<COLUMN> (rows by the value of a table column, e.g. group-by:STATUS)", truncate(arg, 80))
	}
	if !aggregateVerbs[plan.Verb] {
		return nil, fmt.Errorf("aggregate counts the rows of a table: `kubectl %s` prints none; use it with get, events, api-resources or top", plan.Verb)
	}
	if f := outputFormat(plan.Args); f != "" && f != "wide" && !strings.HasPrefix(f, "custom-columns=") {
		return nil, fmt.Errorf("aggregate counts the rows of a table, and -o %s prints none: leave out -o, or use -o wide or -o custom-columns=<columns>", truncate(f, 40))
	}
	for _, w := range plan.Args {
		if w == "--no-headers" || strings.HasPrefix(w, "--no-headers=") && w != "--no-headers=false" {
			return nil, fmt.Errorf("aggregate reads the table's header: leave out --no-headers")
		}
	}
	return &a, nil
}

// outputFormat is the value of -o/--output in kubectl's arguments ("" when none).
func outputFormat(args []string) string {
	f := ""
	for i, w := range args {
		switch {
		case (w == "-o" || w == "--output") && i+1 < len(args):
			f = args[i+1]
		case strings.HasPrefix(w, "--output="):
			f = strings.TrimPrefix(w, "--output=")
		case strings.HasPrefix(w, "-o") && len(w) > 2 && !strings.HasPrefix(w, "--"):
			f = strings.TrimPrefix(strings.TrimPrefix(w, "-o"), "=")
		}
	}
	return f
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// clusterCount is one cluster's part of an aggregate.
type clusterCount struct {
	cluster string
	rows    int
	values  map[string]int
}

// tally counts the rows a cluster printed (and by the column's value). found says whether any of its
// tables has the column; columns collects the headers seen, for the error when no table has it.
func (a *aggregate) tally(cluster, stdout string, columns *[]string) (clusterCount, bool, error) {
	cc := clusterCount{cluster: cluster, values: map[string]int{}}
	found := false
	for _, block := range strings.Split(strings.TrimRight(stdout, "\n"), "\n\n") {
		if strings.TrimSpace(block) == "" {
			continue
		}
		header, rows, ok := output.ParseTable(block)
		if !ok {
			return cc, false, fmt.Errorf("aggregate counts the rows of a table, and cluster %s printed something else: leave out -o (or use -o wide or -o custom-columns=...)", cluster)
		}
		for _, h := range header {
			if !containsFold(*columns, h) {
				*columns = append(*columns, h)
			}
		}
		cc.rows += len(rows)
		if a.column == "" {
			continue
		}
		col := columnIndex(header, a.column)
		if col >= 0 {
			found = true
		}
		for _, r := range rows {
			v := "(no " + strings.ToUpper(a.column) + " column)"
			if col >= 0 {
				if v = r[col]; v == "" {
					v = "(empty)"
				}
			}
			cc.values[v]++
		}
	}
	return cc, found, nil
}

// columnIndex finds a column by name, ignoring case; "_" and "-" stand for the space in names such as
// LAST SEEN or NOMINATED NODE.
func columnIndex(header []string, name string) int {
	norm := func(s string) string {
		return strings.NewReplacer("_", " ", "-", " ").Replace(strings.ToUpper(strings.TrimSpace(s)))
	}
	want := norm(name)
	for i, h := range header {
		if norm(h) == want {
			return i
		}
	}
	return -1
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// renderAggregate answers with counts: the fan-out's status first (when many), then the totals over every
// cluster that answered, then one line per cluster, then notes, skipped clusters and failures. It returns
// an error when the output is not a table or no table has the column asked for.
func renderAggregate(a *aggregate, runs []clusterRun, skipped map[string]string, many bool) (string, int, error) {
	st := runData(runs, skipped)
	var counts []clusterCount
	var notes, failures, columns []string
	total, found := 0, false
	fleet := map[string]int{}
	for _, r := range runs {
		if r.res.Err != nil {
			failures = append(failures, fmt.Sprintf("%s: %s", r.cluster, oneLine(r.res.Err.Error())))
			continue
		}
		cc, has, err := a.tally(r.cluster, r.res.Stdout, &columns)
		if err != nil {
			return "", 0, err
		}
		found = found || has
		counts = append(counts, cc)
		total += cc.rows
		for v, n := range cc.values {
			fleet[v] += n
		}
		if r.res.Capped {
			notes = append(notes, fmt.Sprintf("%s: output stopped at the server's cap; its counts are lower bounds", r.cluster))
		}
		// "No resources found" is what a zero says already.
		if msg := strings.TrimSpace(r.res.Stderr); msg != "" && !strings.HasPrefix(msg, "No resources found") {
			notes = append(notes, fmt.Sprintf("%s: %s", r.cluster, oneLine(msg)))
		}
	}
	if a.column != "" && !found && total > 0 {
		return "", 0, fmt.Errorf("no table printed has a column %q; the columns are: %s", a.column, strings.Join(columns, ", "))
	}
	var b strings.Builder
	if many {
		b.WriteString(st.summary())
	}
	fmt.Fprintf(&b, "Rows: %d on %d cluster(s)", total, len(counts))
	if a.column == "" {
		b.WriteString(".\n")
	} else {
		fmt.Fprintf(&b, ", by %s: %d value(s).\n", strings.ToUpper(a.column), len(fleet))
		b.WriteString(valueTable(strings.ToUpper(a.column), fleet))
	}
	if len(counts) > 0 {
		b.WriteString("\n")
		if a.column != "" && len(fleet) > 1 {
			// The clusters that differ most from the fleet come first: most rows of values other than the
			// commonest (for pods by STATUS, those with pods not Running), where the cap cuts last.
			top := byCount(fleet)[0].value
			sort.SliceStable(counts, func(i, j int) bool {
				return counts[i].rows-counts[i].values[top] > counts[j].rows-counts[j].values[top]
			})
			fmt.Fprintf(&b, "Per cluster, most rows with %s other than %s first:\n", strings.ToUpper(a.column), top)
		}
		t := &output.Table{Header: []string{"CLUSTER", "ROWS"}}
		if a.column != "" {
			t.Header = append(t.Header, strings.ToUpper(a.column))
		}
		for _, cc := range counts {
			row := []string{cc.cluster, fmt.Sprint(cc.rows)}
			if a.column != "" {
				row = append(row, breakdown(cc.values))
			}
			t.Rows = append(t.Rows, row)
		}
		b.WriteString(t.String())
	}
	writeTail(&b, notes, skipped, failures, len(runs))
	return b.String(), len(failures), nil
}

type valueCount struct {
	value string
	n     int
}

// byCount sorts values, most rows first, then by value.
func byCount(values map[string]int) []valueCount {
	out := make([]valueCount, 0, len(values))
	for v, n := range values {
		out = append(out, valueCount{v, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].n != out[j].n {
			return out[i].n > out[j].n
		}
		return out[i].value < out[j].value
	})
	return out
}

// valueTable is the fleet-wide count of each value, most first, at most maxAggregateValues of them.
func valueTable(column string, values map[string]int) string {
	t := &output.Table{Header: []string{column, "ROWS"}}
	sorted := byCount(values)
	rest, restRows := 0, 0
	for i, vc := range sorted {
		if i >= maxAggregateValues {
			rest++
			restRows += vc.n
			continue
		}
		t.Rows = append(t.Rows, []string{vc.value, fmt.Sprint(vc.n)})
	}
	s := t.String()
	if rest > 0 {
		s += fmt.Sprintf("(and %d more value(s) with %d row(s) in all)\n", rest, restRows)
	}
	return s
}

// breakdown is one cluster's counts by value, most first: "Running=12, Pending=1".
func breakdown(values map[string]int) string {
	sorted := byCount(values)
	var parts []string
	for i, vc := range sorted {
		if i == maxValuesPerCluster {
			parts = append(parts, fmt.Sprintf("+%d more", len(sorted)-i))
			break
		}
		parts = append(parts, fmt.Sprintf("%s=%d", vc.value, vc.n))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}
