// Package output shapes tool results for a language model: compact aligned tables, byte caps with a note
// that says what was cut and how to narrow the query.
package output

import (
	"bytes"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"
)

// Table is a header and rows of cells, rendered like kubectl's tables: columns separated by spaces.
type Table struct {
	Header []string
	Rows   [][]string
}

// Append adds one row.
func (t *Table) Append(cells ...string) { t.Rows = append(t.Rows, cells) }

// String renders the table; empty cells become "-" so that columns stay aligned for a reader.
func (t *Table) String() string {
	var b bytes.Buffer
	w := tabwriter.NewWriter(&b, 0, 4, 3, ' ', 0)
	writeRow(w, t.Header)
	for _, r := range t.Rows {
		writeRow(w, r)
	}
	_ = w.Flush()
	return b.String()
}

func writeRow(w *tabwriter.Writer, cells []string) {
	out := make([]string, len(cells))
	for i, c := range cells {
		c = strings.ReplaceAll(c, "\n", " ")
		if c == "" {
			c = "-"
		}
		out[i] = c
	}
	fmt.Fprintln(w, strings.Join(out, "\t"))
}

// Age renders the time since t the way kubectl does (5m, 3h, 12d); "-" for the zero time.
func Age(t time.Time, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return duration.HumanDuration(now.Sub(t))
}
