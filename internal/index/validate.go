package index

import (
	"fmt"
	"strings"
)

// A caller's statement is checked before it runs, by a lexer that reads it the way the engine does
// (strings, quoted identifiers, comments; PostgreSQL's nested comments), so that what is checked is what
// runs:
//
//   - exactly one statement, starting with SELECT or WITH (a trailing semicolon is allowed);
//   - no keyword that writes or changes the session anywhere in it (INSERT, UPDATE, DELETE, MERGE,
//     INTO, ATTACH, PRAGMA, ...): a data-modifying WITH or a SELECT INTO is refused too;
//   - no function that reads files, runs SQL given as text, or changes settings (load_extension,
//     readfile, set_config, query_to_xml, ts_stat, dblink, ...), and no name of the engine's catalogs
//     (sqlite_*, pg_*, information_schema);
//   - no name of the store's own tables (mcmcp_*), in an identifier or (as SQLite takes a string for a
//     table name) in a string: the statement can only reach the tables through the views the server
//     puts in front of them, restricted to the clusters the caller may read;
//   - no bound parameters and, on PostgreSQL, no dollar-quoted or escape strings (their lexing is
//     the engine's own, so they are refused rather than guessed).
//
// The statement then runs on a read-only connection (SQLite mode=ro and query_only; PostgreSQL a READ
// ONLY transaction with a statement_timeout), so a write that the checks missed still fails.

// Dialect names the SQL engine that answers.
type Dialect string

// Dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// tokKind is a lexical class.
type tokKind int

const (
	tokWord   tokKind = iota // keyword or bare identifier
	tokQuoted                // quoted identifier
	tokString                // string literal
	tokNumber
	tokPunct
)

type token struct {
	kind tokKind
	text string // words lowercased; quoted identifiers and strings unquoted
	pos  int    // byte offset in the statement
	end  int
}

// StatementError is a refused statement; the message says why and what is accepted.
type StatementError struct{ Reason string }

func (e *StatementError) Error() string {
	return "refused: " + e.Reason + ". fleet_sql runs one read-only SELECT (or WITH ... SELECT) over k8s_resource, k8s_history and k8s_cluster"
}

func refuse(format string, args ...any) error {
	return &StatementError{Reason: fmt.Sprintf(format, args...)}
}

// MaxStatementBytes bounds a statement's length.
const MaxStatementBytes = 16 << 10

// deniedWords are keywords that have no place in a read-only SELECT.
var deniedWords = map[string]bool{
	"insert": true, "update": true, "delete": true, "merge": true, "upsert": true, "into": true,
	"drop": true, "create": true, "alter": true, "truncate": true, "attach": true, "detach": true,
	"pragma": true, "vacuum": true, "reindex": true, "copy": true, "grant": true, "revoke": true,
	"begin": true, "commit": true, "rollback": true, "savepoint": true, "release": true,
	"lock": true, "listen": true, "notify": true, "unlisten": true, "prepare": true, "execute": true,
	"deallocate": true, "declare": true, "fetch": true, "discard": true, "checkpoint": true,
	"reset": true, "load": true,
}

// deniedFuncs are functions (and table functions) that reach outside the query: files, extensions,
// SQL given as text, settings, sequences, sleeping, other sessions.
var deniedFuncs = map[string]bool{
	"load_extension": true, "readfile": true, "writefile": true, "edit": true, "fsdir": true, "zipfile": true,
	"sqlar_compress": true, "sqlar_uncompress": true, "fts3_tokenizer": true, "dbstat": true,
	"set_config": true, "current_setting": true, "ts_stat": true, "ts_rewrite": true,
	"query_to_xml": true, "query_to_xmlschema": true, "query_to_xml_and_xmlschema": true,
	"table_to_xml": true, "table_to_xmlschema": true, "table_to_xml_and_xmlschema": true,
	"cursor_to_xml": true, "cursor_to_xmlschema": true,
	"nextval": true, "setval": true, "currval": true, "lastval": true,
	"information_schema": true, "main": true, "temp": true,
}

// deniedPrefixes are name prefixes of catalogs and privileged function families.
var deniedPrefixes = []string{"sqlite_", "pg_", "dblink", "lo_", "mcmcp_", "xml"}

// deniedInStrings are prefixes refused inside string literals too: SQLite accepts a string where a
// table name goes.
var deniedInStrings = []string{"mcmcp_", "sqlite_"}

// Checked is a statement that passed the checks, with where its first statement keyword ends, so
// that the server can put its views in front of it.
type Checked struct {
	Text string
	// With is true when the statement starts with WITH; Body is the offset just after WITH (and
	// RECURSIVE), where the server's view definitions go.
	With, Recursive bool
	Body            int
}

// Check validates a caller's statement for the dialect.
func Check(stmt string, d Dialect) (*Checked, error) {
	if len(stmt) > MaxStatementBytes {
		return nil, refuse("the statement is %d bytes long; at most %d", len(stmt), MaxStatementBytes)
	}
	toks, err := lex(stmt, d)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, refuse("the statement is empty")
	}
	// One statement: a semicolon only at the very end.
	for i, t := range toks {
		if t.kind == tokPunct && t.text == ";" {
			if i != len(toks)-1 {
				return nil, refuse("more than one statement (a semicolon before the end)")
			}
			toks = toks[:i]
		}
	}
	if len(toks) == 0 {
		return nil, refuse("the statement is empty")
	}
	first := toks[0]
	if first.kind != tokWord || (first.text != "select" && first.text != "with") {
		what := first.text
		if first.kind != tokWord {
			what = "«" + what + "»"
		}
		return nil, refuse("the statement starts with %s; only SELECT or WITH ... SELECT run", strings.ToUpper(what))
	}
	for i, t := range toks {
		switch t.kind {
		case tokWord, tokQuoted:
			name := t.text
			if t.kind == tokWord && deniedWords[name] {
				return nil, refuse("%s is not allowed: the index is read-only", strings.ToUpper(name))
			}
			if deniedFuncs[name] {
				return nil, refuse("%s is not allowed", name)
			}
			for _, p := range deniedPrefixes {
				if strings.HasPrefix(name, p) {
					if p == "mcmcp_" {
						return nil, refuse("%s is the store's own table: query the views k8s_resource, k8s_history and k8s_cluster", name)
					}
					return nil, refuse("%s is not allowed (names starting %s are the engine's catalogs or privileged functions)", name, p)
				}
			}
		case tokString:
			low := strings.ToLower(strings.TrimSpace(t.text))
			for _, p := range deniedInStrings {
				if strings.HasPrefix(low, p) {
					return nil, refuse("the string %q names the store's tables or catalogs", truncate(t.text, 40))
				}
			}
		case tokPunct:
			switch t.text {
			case "?", "$":
				return nil, refuse("parameters (%s) are not taken: write values in the statement", t.text)
			case ":", "@":
				if d == SQLite && i+1 < len(toks) && toks[i+1].pos == t.end && (toks[i+1].kind == tokWord || toks[i+1].kind == tokNumber) {
					return nil, refuse("parameters (%s%s) are not taken: write values in the statement", t.text, toks[i+1].text)
				}
			}
		}
	}
	c := &Checked{}
	if first.text == "with" {
		c.With, c.Body = true, first.end
		if len(toks) > 1 && toks[1].kind == tokWord && toks[1].text == "recursive" {
			c.Recursive, c.Body = true, toks[1].end
		}
	}
	// The text runs from the first token to the last (comments before or after, and the semicolon,
	// are left out); Body is an offset in it.
	c.Text = stmt[first.pos:toks[len(toks)-1].end]
	if c.With {
		c.Body -= first.pos
	}
	return c, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
}

func isIdentPart(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') || c == '$' }

// lex splits a statement into tokens, dropping comments. It refuses what it cannot read the way the
// engine does.
func lex(s string, d Dialect) ([]token, error) {
	var out []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == 0:
			return nil, refuse("the statement holds a NUL byte")
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			end, err := blockComment(s, i, d == Postgres)
			if err != nil {
				return nil, err
			}
			i = end
		case c == '\'':
			text, end, err := quoted(s, i, '\'')
			if err != nil {
				return nil, refuse("a string is not closed")
			}
			out = append(out, token{kind: tokString, text: text, pos: i, end: end})
			i = end
		case c == '"' || (d == SQLite && c == '`'):
			text, end, err := quoted(s, i, c)
			if err != nil {
				return nil, refuse("a quoted name is not closed")
			}
			out = append(out, token{kind: tokQuoted, text: strings.ToLower(text), pos: i, end: end})
			i = end
		case d == SQLite && c == '[':
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return nil, refuse("a [name] is not closed")
			}
			out = append(out, token{kind: tokQuoted, text: strings.ToLower(s[i+1 : i+end]), pos: i, end: i + end + 1})
			i += end + 1
		case isIdentStart(c):
			j := i
			for j < len(s) && isIdentPart(s[j]) {
				j++
			}
			word := s[i:j]
			if d == Postgres && j < len(s) && (s[j] == '\'' || s[j] == '"') {
				switch strings.ToLower(word) {
				case "e", "u&":
					return nil, refuse("escape strings (E'...') are not taken: write a standard string")
				}
			}
			if d == Postgres && strings.ContainsRune(word, '$') {
				return nil, refuse("%q: names with $ are not taken", word)
			}
			if d == Postgres && j+1 < len(s) && s[j] == '&' && (s[j+1] == '\'' || s[j+1] == '"') && strings.EqualFold(word, "u") {
				return nil, refuse("Unicode escape strings (U&'...') are not taken")
			}
			out = append(out, token{kind: tokWord, text: strings.ToLower(word), pos: i, end: j})
			i = j
		case c >= '0' && c <= '9' || (c == '.' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9'):
			j := i
			for j < len(s) && (isIdentPart(s[j]) || s[j] == '.' || ((s[j] == '+' || s[j] == '-') && (s[j-1] == 'e' || s[j-1] == 'E'))) {
				j++
			}
			out = append(out, token{kind: tokNumber, text: s[i:j], pos: i, end: j})
			i = j
		default:
			if c == '$' && d == Postgres {
				return nil, refuse("dollar-quoted strings and $n parameters are not taken: write a standard string")
			}
			out = append(out, token{kind: tokPunct, text: string(c), pos: i, end: i + 1})
			i++
		}
	}
	return out, nil
}

// blockComment returns the offset after the comment that starts at i. PostgreSQL nests them.
func blockComment(s string, i int, nested bool) (int, error) {
	depth := 0
	for j := i; j+1 < len(s); {
		switch {
		case s[j] == '/' && s[j+1] == '*':
			depth++
			j += 2
			if !nested && depth > 1 {
				depth = 1
			}
		case s[j] == '*' && s[j+1] == '/':
			depth--
			j += 2
			if depth == 0 {
				return j, nil
			}
		default:
			j++
		}
	}
	return 0, refuse("a /* comment is not closed")
}

// quoted reads a quoted token starting at i (the quote is doubled to escape it).
func quoted(s string, i int, q byte) (string, int, error) {
	var b strings.Builder
	for j := i + 1; j < len(s); j++ {
		if s[j] == q {
			if j+1 < len(s) && s[j+1] == q {
				b.WriteByte(q)
				j++
				continue
			}
			return b.String(), j + 1, nil
		}
		b.WriteByte(s[j])
	}
	return "", 0, fmt.Errorf("unclosed")
}
