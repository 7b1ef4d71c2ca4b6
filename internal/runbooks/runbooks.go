// Package runbooks holds the troubleshooting runbooks the server offers as MCP resources, built in and
// from a team's folder, and a keyword search over them.
package runbooks

import (
	"embed"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
)

//go:embed builtin/*.md
var builtin embed.FS

// Runbook is one markdown document.
type Runbook struct {
	URI         string // runbook://ocm/<name> for built-in ones, runbook://team/<name> for a team's
	Name        string
	Title       string
	Description string // the first paragraph
	Content     string
	sections    []Section
}

// Section is a part of a runbook under one heading.
type Section struct {
	Runbook *Runbook
	Heading string
	Text    string
}

// Set is every runbook the server offers.
type Set struct {
	Runbooks []*Runbook
	index    *index
}

// Load reads the built-in runbooks and, when dir is set, a team's (*.md in dir). A team's runbook with
// the name of a built-in one is offered beside it, under its own URI.
func Load(dir string) (*Set, error) {
	s := &Set{}
	entries, err := fs.Glob(builtin, "builtin/*.md")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		data, err := builtin.ReadFile(e)
		if err != nil {
			return nil, err
		}
		s.add("ocm", e, string(data))
	}
	if dir != "" {
		files, err := filepath.Glob(filepath.Join(dir, "*.md"))
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("no runbook (*.md) in %s", dir)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			s.add("team", f, string(data))
		}
	}
	s.index = buildIndex(s.Runbooks)
	return s, nil
}

func (s *Set) add(scope, path, content string) {
	name := strings.TrimSuffix(filepath.Base(path), ".md")
	rb := &Runbook{URI: "runbook://" + scope + "/" + name, Name: name, Content: content}
	rb.Title, rb.Description, rb.sections = parse(rb, content)
	if rb.Title == "" {
		rb.Title = name
	}
	s.Runbooks = append(s.Runbooks, rb)
}

// Get returns the runbook with that URI.
func (s *Set) Get(uri string) *Runbook {
	for _, rb := range s.Runbooks {
		if rb.URI == uri {
			return rb
		}
	}
	return nil
}

// parse splits a runbook into its title, first paragraph and sections ("## " headings).
func parse(rb *Runbook, content string) (string, string, []Section) {
	var title, desc string
	var sections []Section
	cur := Section{Runbook: rb, Heading: "Overview"}
	flush := func() {
		if strings.TrimSpace(cur.Text) != "" {
			sections = append(sections, cur)
		}
	}
	for _, line := range strings.Split(content, "\n") {
		switch {
		case strings.HasPrefix(line, "# ") && title == "":
			title = strings.TrimSpace(line[2:])
		case strings.HasPrefix(line, "## "):
			flush()
			cur = Section{Runbook: rb, Heading: strings.TrimSpace(line[3:])}
		default:
			if desc == "" && title != "" && strings.TrimSpace(line) != "" && cur.Heading == "Overview" {
				desc = strings.TrimSpace(line)
			}
			cur.Text += line + "\n"
		}
	}
	flush()
	return title, desc, sections
}

// Hit is a section that matched a search.
type Hit struct {
	Section Section
	Score   float64
}

// Search ranks sections by BM25 over their words (headings count twice) and returns the best n.
func (s *Set) Search(query string, n int) []Hit {
	return s.index.search(query, n)
}

type index struct {
	docs   []Section
	tf     []map[string]int
	length []int
	df     map[string]int
	avgLen float64
}

func buildIndex(rbs []*Runbook) *index {
	ix := &index{df: map[string]int{}}
	total := 0
	for _, rb := range rbs {
		for _, sec := range rb.sections {
			words := tokens(rb.Title + " " + sec.Heading + " " + sec.Heading + " " + sec.Text)
			tf := map[string]int{}
			for _, w := range words {
				tf[w]++
			}
			for w := range tf {
				ix.df[w]++
			}
			ix.docs = append(ix.docs, sec)
			ix.tf = append(ix.tf, tf)
			ix.length = append(ix.length, len(words))
			total += len(words)
		}
	}
	if len(ix.docs) > 0 {
		ix.avgLen = float64(total) / float64(len(ix.docs))
	}
	return ix
}

func (ix *index) search(query string, n int) []Hit {
	const k1, b = 1.2, 0.75
	terms := tokens(query)
	var hits []Hit
	N := float64(len(ix.docs))
	for i, tf := range ix.tf {
		score := 0.0
		for _, t := range terms {
			f := float64(tf[t])
			if f == 0 {
				continue
			}
			idf := math.Log(1 + (N-float64(ix.df[t])+0.5)/(float64(ix.df[t])+0.5))
			score += idf * f * (k1 + 1) / (f + k1*(1-b+b*float64(ix.length[i])/ix.avgLen))
		}
		if score > 0 {
			hits = append(hits, Hit{Section: ix.docs[i], Score: score})
		}
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].Score > hits[j].Score })
	if len(hits) > n {
		hits = hits[:n]
	}
	return hits
}

// stop words carry no meaning for a search.
var stop = map[string]bool{"the": true, "a": true, "an": true, "and": true, "or": true, "of": true, "to": true, "in": true,
	"is": true, "it": true, "on": true, "for": true, "with": true, "its": true, "be": true, "by": true, "as": true, "not": true,
	"no": true, "my": true, "why": true, "what": true, "how": true, "are": true, "does": true, "do": true}

// tokens lower-cases and splits on anything that is not a letter or digit, and folds a plural s.
func tokens(s string) []string {
	fields := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	out := fields[:0]
	for _, f := range fields {
		if stop[f] || len(f) < 2 {
			continue
		}
		if len(f) > 3 && strings.HasSuffix(f, "s") && !strings.HasSuffix(f, "ss") {
			f = f[:len(f)-1]
		}
		out = append(out, f)
	}
	return out
}
