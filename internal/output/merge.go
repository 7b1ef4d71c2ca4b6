package output

import (
	"strings"
	"unicode"
)

// ClusterOutput is one cluster's part of a fan-out.
type ClusterOutput struct {
	Cluster string
	Text    string
}

// MergeTables merges kubectl tables from several clusters: blocks with the same header become one table
// with a leading CLUSTER column. It reports false when some output is not a table (yaml, json, describe),
// in which case the caller shows one section per cluster.
func MergeTables(parts []ClusterOutput) (string, bool) {
	type group struct {
		header []string
		rows   [][]string
	}
	var order []string
	groups := map[string]*group{}
	for _, p := range parts {
		for _, block := range splitBlocks(p.Text) {
			header, rows, ok := ParseTable(block)
			if !ok {
				return "", false
			}
			key := strings.Join(header, "\x00")
			g, seen := groups[key]
			if !seen {
				g = &group{header: header}
				groups[key] = g
				order = append(order, key)
			}
			for _, r := range rows {
				g.rows = append(g.rows, append([]string{p.Cluster}, r...))
			}
		}
	}
	var b strings.Builder
	for i, key := range order {
		if i > 0 {
			b.WriteString("\n")
		}
		g := groups[key]
		t := &Table{Header: append([]string{"CLUSTER"}, g.header...), Rows: g.rows}
		b.WriteString(t.String())
	}
	return b.String(), true
}

func splitBlocks(text string) []string {
	var blocks []string
	for _, b := range strings.Split(strings.TrimRight(text, "\n"), "\n\n") {
		if strings.TrimSpace(b) != "" {
			blocks = append(blocks, b)
		}
	}
	return blocks
}

// ParseTable reads a kubectl table: a header of upper-case column names, and rows aligned to it. ok is
// false when the first line is not such a header.
func ParseTable(block string) ([]string, [][]string, bool) {
	lines := strings.Split(block, "\n")
	header := lines[0]
	if !isHeader(header) {
		return nil, nil, false
	}
	var starts []int
	var names []string
	for i := 0; i < len(header); {
		for i < len(header) && header[i] == ' ' {
			i++
		}
		if i >= len(header) {
			break
		}
		end := strings.Index(header[i:], "   ")
		if end < 0 {
			end = len(header)
		} else {
			end += i
		}
		starts = append(starts, i)
		names = append(names, strings.TrimSpace(header[i:end]))
		i = end
	}
	rows := make([][]string, 0, len(lines)-1)
	for _, line := range lines[1:] {
		row := make([]string, len(starts))
		for k, s := range starts {
			if s >= len(line) {
				continue
			}
			end := len(line)
			if k+1 < len(starts) && starts[k+1] < len(line) {
				end = starts[k+1]
			}
			row[k] = strings.TrimSpace(line[s:end])
		}
		rows = append(rows, row)
	}
	return names, rows, true
}

func isHeader(line string) bool {
	if strings.TrimSpace(line) == "" || !strings.Contains(line, "NAME") && !strings.Contains(line, "   ") {
		return false
	}
	for _, r := range line {
		if unicode.IsLower(r) {
			return false
		}
	}
	return true
}
