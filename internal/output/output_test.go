package output

import (
	"strings"
	"testing"
	"time"
)

func TestTableAlignsAndFillsEmptyCells(t *testing.T) {
	tb := &Table{Header: []string{"NAME", "STATUS", "AGE"}}
	tb.Append("spoke1", "True", "5m")
	tb.Append("a-much-longer-name", "", "2d")
	want := "NAME                 STATUS   AGE\n" +
		"spoke1               True     5m\n" +
		"a-much-longer-name   -        2d\n"
	if got := tb.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestTruncate(t *testing.T) {
	lines := strings.Repeat("0123456789\n", 100) // 1100 bytes
	tests := []struct {
		name     string
		text     string
		max      int
		wantCut  bool
		keptMax  int
		contains []string
	}{
		{"fits", "short\n", 100, false, 6, nil},
		{"cut at line", lines, 205, true, 205, []string{"showing 198 of 1100 bytes", "82 lines omitted", "To narrow it: use -n"}},
		{"no limit", lines, 0, false, 1100, nil},
		{"multibyte", strings.Repeat("é", 100), 51, true, 51, []string{"showing 50 of 200 bytes"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Truncate(tc.text, tc.max, "use -n")
			if !tc.wantCut {
				if got != tc.text {
					t.Fatalf("changed text that fits")
				}
				return
			}
			kept, note, ok := strings.Cut(got, "\n[output truncated")
			if !ok {
				t.Fatalf("no truncation note: %q", got)
			}
			if len(kept) > tc.keptMax {
				t.Errorf("kept %d bytes, cap %d", len(kept), tc.keptMax)
			}
			if !strings.HasPrefix(tc.text, kept) {
				t.Errorf("kept text is not a prefix")
			}
			for _, c := range tc.contains {
				if !strings.Contains(note, c) {
					t.Errorf("note %q lacks %q", note, c)
				}
			}
		})
	}
}

func TestAge(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if got := Age(now.Add(-90*time.Minute), now); got != "90m" {
		t.Errorf("Age = %q", got)
	}
	if got := Age(time.Time{}, now); got != "-" {
		t.Errorf("zero Age = %q", got)
	}
}

func TestMergeTables(t *testing.T) {
	parts := []ClusterOutput{
		{"hub", "NAME      STATUS   AGE\ndefault   Active   5d\n"},
		{"spoke1", "NAME               STATUS   AGE\nkube-system        Active   3d\nlonger-name-here   Active   1h\n"},
	}
	got, ok := MergeTables(parts)
	if !ok {
		t.Fatal("not merged")
	}
	want := "CLUSTER   NAME               STATUS   AGE\n" +
		"hub       default            Active   5d\n" +
		"spoke1    kube-system        Active   3d\n" +
		"spoke1    longer-name-here   Active   1h\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if _, ok := MergeTables([]ClusterOutput{{"a", "apiVersion: v1\nkind: Pod\n"}}); ok {
		t.Error("merged YAML as a table")
	}
}

// TestTableMatchesTabwriter: the aligned rendering is byte for byte what text/tabwriter makes of the same
// cells (wide runes, empty cells, newlines in cells, one column, no rows), so that no table changes.
func TestTableMatchesTabwriter(t *testing.T) {
	cases := []struct {
		name   string
		header []string
		rows   [][]string
	}{
		{"no rows", []string{"NAME", "STATUS"}, nil},
		{"one column", []string{"NAME"}, [][]string{{"a"}, {"bbbbbbbb"}, {""}}},
		{"empty and multi-line cells", []string{"NAME", "READY", "STATUS"}, [][]string{{"web-1", "", "Running"}, {"a\nb", "1/1", ""}}},
		{"wide runes", []string{"NAME", "NOTE", "AGE"}, [][]string{{"żółw", "日本語", "3d"}, {"x", "ascii", "12m"}}},
		{"last column widest", []string{"A", "B"}, [][]string{{"1", "a very long last cell"}, {"22", "b"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tb := &Table{Header: tc.header, Rows: tc.rows}
			if got, want := tb.String(), tb.tabwriterString(); got != want {
				t.Errorf("got\n%q\nwant (tabwriter)\n%q", got, want)
			}
		})
	}
}
