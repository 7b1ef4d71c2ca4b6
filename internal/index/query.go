package index

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Scope is what a caller may see: every cluster, or only those named.
type Scope struct {
	All      bool
	Clusters []string
}

// Result is a query's answer: the first rows, and how many more there were.
type Result struct {
	Columns []string
	Rows    [][]string
	// More counts the rows past those returned; MoreAtLeast says counting stopped at maxCounted.
	More        int64
	MoreAtLeast bool
	Elapsed     time.Duration
}

// maxCounted bounds how many rows past the limit are counted.
const maxCounted = 100_000

// ErrTimeout marks a query that ran out of time.
var ErrTimeout = errors.New("the query ran out of time")

// Query runs a caller's statement, checked, over the views of the caller's scope, on a read-only
// connection, returning at most limit rows within timeout.
func (s *Store) Query(ctx context.Context, stmt string, scope Scope, limit int, timeout time.Duration) (*Result, error) {
	c, err := Check(stmt, s.dialect)
	if err != nil {
		return nil, err
	}
	return s.run(ctx, c, scope, limit, timeout)
}

func (s *Store) run(ctx context.Context, c *Checked, scope Scope, limit int, timeout time.Duration) (*Result, error) {
	if limit <= 0 {
		limit = 200
	}
	var args []any
	n := 0
	if !scope.All {
		var names []string
		for _, c := range scope.Clusters {
			if c != "" && !strings.Contains(c, ",") {
				names = append(names, c)
			}
		}
		n = len(names)
		switch {
		case s.dialect == Postgres:
			args = append(args, names)
		case n <= maxInList:
			for _, c := range names {
				args = append(args, c)
			}
		default:
			args = append(args, ","+strings.Join(names, ",")+",")
		}
	}
	q := wrap(c, s.dialect, !scope.All, n)
	began := time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := s.r.Conn(ctx)
	if err != nil {
		return nil, s.queryError(ctx, err, timeout)
	}
	defer conn.Close()
	var rows *sql.Rows
	if s.dialect == Postgres {
		tx, err := conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return nil, s.queryError(ctx, err, timeout)
		}
		defer func() { _ = tx.Rollback() }()
		ms := strconv.FormatInt(max(timeout.Milliseconds(), 1), 10)
		if _, err := tx.ExecContext(ctx, "SET LOCAL statement_timeout = "+ms); err != nil {
			return nil, s.queryError(ctx, err, timeout)
		}
		rows, err = tx.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, s.queryError(ctx, err, timeout)
		}
	} else {
		rows, err = conn.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, s.queryError(ctx, err, timeout)
		}
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	res := &Result{Columns: cols}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if len(res.Rows) >= limit {
			res.More++
			if res.More >= maxCounted {
				res.MoreAtLeast = true
				break
			}
			continue
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			if b, ok := v.([]byte); ok && s.dialect == SQLite {
				v = s.jsonText(ctx, conn, b)
			}
			row[i] = cell(v)
		}
		res.Rows = append(res.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, s.queryError(ctx, err, timeout)
	}
	res.Elapsed = time.Since(began)
	return res, nil
}

// queryError explains an engine's error: a timeout in words, anything else with the engine named.
func (s *Store) queryError(ctx context.Context, err error, timeout time.Duration) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || strings.Contains(err.Error(), "statement timeout") || strings.Contains(err.Error(), "interrupted") {
		return fmt.Errorf("%w after %s: narrow it (WHERE cluster = ..., kind = ...), or raise the timeout argument", ErrTimeout, timeout)
	}
	return fmt.Errorf("%s: %v", s.dialect, err)
}

// cell renders a value: times in UTC, NULL as NULL.
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return string(x)
	case string:
		return x
	case time.Time:
		return x.UTC().Format("2006-01-02 15:04:05")
	case map[string]any, []any:
		b, _ := marshal(x)
		return string(b)
	default:
		return fmt.Sprint(x)
	}
}

// jsonText renders a SQLite blob: a JSONB value (payload, labels, what -> returns of them) as JSON
// text, through the engine's own json(); any other blob as it is.
func (s *Store) jsonText(ctx context.Context, conn *sql.Conn, b []byte) any {
	var text string
	if err := conn.QueryRowContext(ctx, "SELECT json(?)", b).Scan(&text); err != nil {
		return b
	}
	return text
}
