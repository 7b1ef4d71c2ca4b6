// Package output shapes tool results for a language model: compact aligned tables, byte caps with a note
// that says what was cut and how to narrow the query.
package output

import (
	"bytes"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/util/duration"
)

// Table is a header and rows of cells, rendered like kubectl's tables: columns separated by spaces.
type Table struct {
	Header []string
	Rows   [][]string
}

// Append adds one row.
func (t *Table) Append(cells ...string) { t.Rows = append(t.Rows, cells) }

// String renders the table; empty cells become "-" so that columns stay aligned for a reader. Each
// column is as wide as its widest cell (in runes) plus three spaces; the last is not padded.
func (t *Table) String() string {
	n := len(t.Header)
	for _, r := range t.Rows {
		if len(r) != n {
			return t.tabwriterString() // ragged rows: tabwriter's own column blocks
		}
	}
	if n == 0 {
		return t.tabwriterString()
	}
	const padding = 3
	widths := make([]int, n)
	size := 0
	measure := func(row []string) {
		for i, c := range row {
			w := utf8.RuneCountInString(cellText(c))
			widths[i] = max(widths[i], w)
			size += len(c) + padding
		}
	}
	measure(t.Header)
	for _, r := range t.Rows {
		measure(r)
	}
	var b strings.Builder
	b.Grow(size + len(t.Rows) + 1)
	write := func(row []string) {
		for i, c := range row {
			c = cellText(c)
			b.WriteString(c)
			if i < n-1 {
				for range widths[i] + padding - utf8.RuneCountInString(c) {
					b.WriteByte(' ')
				}
			}
		}
		b.WriteByte('\n')
	}
	write(t.Header)
	for _, r := range t.Rows {
		write(r)
	}
	return b.String()
}

// cellText is what a cell shows: one line, "-" when empty.
func cellText(c string) string {
	if strings.Contains(c, "\n") {
		c = strings.ReplaceAll(c, "\n", " ")
	}
	if c == "" {
		return "-"
	}
	return c
}

// tabwriterString renders with text/tabwriter (the reference String matches for rows of one length).
func (t *Table) tabwriterString() string {
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
