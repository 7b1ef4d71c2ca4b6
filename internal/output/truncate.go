package output

import (
	"fmt"
	"unicode/utf8"
)

// DefaultMaxBytes is the default cap on one tool result's text.
const DefaultMaxBytes = 32 * 1024

// Truncate caps text at max bytes, cutting at a line boundary when one is near, and appends a note that
// says how much was cut and how to narrow the request (hint). It returns text unchanged when it fits.
func Truncate(text string, max int, hint string) string {
	if max <= 0 || len(text) <= max {
		return text
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	// Prefer ending on a whole line, unless that would drop most of the budget.
	if nl := lastNewline(text[:cut]); nl > max/2 {
		cut = nl + 1
	}
	kept := text[:cut]
	note := fmt.Sprintf("\n[output truncated: showing %d of %d bytes (%d lines omitted).", cut, len(text), countLines(text[cut:]))
	if hint != "" {
		note += " To narrow it: " + hint
	}
	return kept + note + "]\n"
}

func lastNewline(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '\n' {
			return i
		}
	}
	return -1
}

func countLines(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			n++
		}
	}
	if len(s) > 0 && s[len(s)-1] != '\n' {
		n++
	}
	return n
}
