package tools

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ocm-fleet/multicluster-mcp-server/auth"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/kubectl"
)

// fanOutStatus counts a fan-out's outcomes, so that its answer starts with what happened on every
// cluster: the merged output after it is what the cap cuts first, never the names of the clusters
// that did not answer.
type fanOutStatus struct {
	ok, failed, denied, timedOut, skipped int
	notOK                                 []string // "name (why)", in target order
}

// maxNamedInSummary bounds how many clusters the summary line names.
const maxNamedInSummary = 40

func (s *fanOutStatus) add(cluster string, err error) {
	var denied *auth.DeniedError
	why := "failed"
	switch {
	case errors.As(err, &denied):
		s.denied++
		why = "denied"
	case errors.Is(err, kubectl.ErrTimeout):
		s.timedOut++
		why = "timed out"
	default:
		s.failed++
	}
	s.notOK = append(s.notOK, cluster+" ("+why+")")
}

// summary is the first line of a fan-out answer, and the clusters that did not answer.
func (s *fanOutStatus) summary(ran int) string {
	counts := []string{fmt.Sprintf("%d ok", s.ok)}
	for _, c := range []struct {
		n    int
		word string
	}{{s.failed, "failed"}, {s.denied, "denied"}, {s.timedOut, "timed out"}, {s.skipped, "skipped"}} {
		if c.n > 0 {
			counts = append(counts, fmt.Sprintf("%d %s", c.n, c.word))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Fan-out over %d cluster(s): %s.\n", ran+s.skipped, strings.Join(counts, ", "))
	if len(s.notOK) > 0 {
		named := s.notOK
		more := ""
		if len(named) > maxNamedInSummary {
			more = fmt.Sprintf(" and %d more (listed at the end)", len(named)-maxNamedInSummary)
			named = named[:maxNamedInSummary]
		}
		fmt.Fprintf(&b, "Not ok: %s%s.\n", strings.Join(named, ", "), more)
	}
	b.WriteString("\n")
	return b.String()
}

// nameList joins up to limit names, saying how many more there are.
func nameList(names []string, limit int) string {
	if len(names) <= limit {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:limit], ", "), len(names)-limit)
}
