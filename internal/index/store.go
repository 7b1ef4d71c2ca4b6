// Package index is the fleet index: every cluster's objects of chosen kinds, and the history of their
// changes, in SQL tables that a read-only tool queries. The store is embedded SQLite by default
// (modernc.org/sqlite, pure Go, a file in a private folder) or PostgreSQL (pgx) given a DSN, so that
// several server replicas can share one index. Collectors (collect.go) watch the clusters; offline, a
// must-gather archive is loaded into the same store (archive.go).
package index

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	"go.uber.org/zap"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// Options configure a store.
type Options struct {
	// DSN is empty for the embedded store, or a postgres:// (postgresql://) URL.
	DSN string
	// Dir holds the embedded store's file (default: a private folder in the system temp, removed by Close).
	Dir string
	// HistoryRetention is how long history rows are kept (0: 24h); HistoryMaxRows caps them (0: 1,000,000).
	HistoryRetention time.Duration
	HistoryMaxRows   int
	// Now is the clock (tests and archives pin it).
	Now func() time.Time
	Log *zap.Logger
}

// Store is the index's database: one writer, a pool of read-only connections for queries.
type Store struct {
	dialect Dialect
	w       *sql.DB // writes (SQLite: one connection)
	r       *sql.DB // queries: read-only
	dir     string  // removed by Close (embedded only)
	opts    Options
	log     *zap.Logger

	wmu sync.Mutex // one write transaction at a time
}

// Defaults.
const (
	DefaultHistoryRetention = 24 * time.Hour
	DefaultHistoryMaxRows   = 1_000_000
)

// DialectOf says which engine a DSN names, or an error for a DSN neither engine takes.
func DialectOf(dsn string) (Dialect, error) {
	switch {
	case dsn == "":
		return SQLite, nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		if _, err := url.Parse(dsn); err != nil {
			return "", fmt.Errorf("not a URL: %w", err)
		}
		return Postgres, nil
	}
	return "", fmt.Errorf("a PostgreSQL URL (postgres://user@host:5432/db?sslmode=...) or empty for the embedded store")
}

// Open opens (creating its tables) the store the options name.
func Open(ctx context.Context, o Options) (*Store, error) {
	d, err := DialectOf(o.DSN)
	if err != nil {
		return nil, err
	}
	if o.HistoryRetention <= 0 {
		o.HistoryRetention = DefaultHistoryRetention
	}
	if o.HistoryMaxRows <= 0 {
		o.HistoryMaxRows = DefaultHistoryMaxRows
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	s := &Store{dialect: d, opts: o, log: o.Log}
	if d == SQLite {
		err = s.openSQLite()
	} else {
		err = s.openPostgres()
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for _, stmt := range ddl(d) {
		if _, err := s.w.ExecContext(ctx, stmt); err != nil {
			s.Close()
			return nil, fmt.Errorf("creating the index tables: %w", err)
		}
	}
	return s, nil
}

func (s *Store) openSQLite() error {
	dir := s.opts.Dir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "multicluster-mcp-server-index-"); err != nil {
			return err
		}
		s.dir = dir
	}
	path := filepath.Join(dir, "index.db")
	pragmas := "_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(0)&_txlock=immediate"
	w, err := sql.Open("sqlite", "file:"+path+"?"+pragmas)
	if err != nil {
		return err
	}
	w.SetMaxOpenConns(1)
	s.w = w
	// The writer makes the file (and the WAL) before readers open it read-only.
	if err := w.Ping(); err != nil {
		return err
	}
	if _, err := w.Exec("PRAGMA journal_mode=WAL"); err != nil {
		return err
	}
	r, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=query_only(1)&_pragma=busy_timeout(10000)&_pragma=trusted_schema(0)")
	if err != nil {
		return err
	}
	r.SetMaxOpenConns(4)
	r.SetConnMaxIdleTime(5 * time.Minute)
	s.r = r
	return nil
}

func (s *Store) openPostgres() error {
	u, err := url.Parse(s.opts.DSN)
	if err != nil {
		return err
	}
	q := u.Query()
	q.Set("timezone", "UTC")
	if q.Get("connect_timeout") == "" {
		q.Set("connect_timeout", "10")
	}
	u.RawQuery = q.Encode()
	w, err := sql.Open("pgx", u.String())
	if err != nil {
		return err
	}
	w.SetMaxOpenConns(4)
	s.w = w
	q.Set("default_transaction_read_only", "on")
	q.Set("standard_conforming_strings", "on")
	u.RawQuery = q.Encode()
	r, err := sql.Open("pgx", u.String())
	if err != nil {
		return err
	}
	r.SetMaxOpenConns(8)
	r.SetConnMaxIdleTime(5 * time.Minute)
	s.r = r
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := w.PingContext(ctx); err != nil {
		return fmt.Errorf("connecting to the index's PostgreSQL: %w", err)
	}
	return nil
}

// Dialect is the engine that answers.
func (s *Store) Dialect() Dialect { return s.dialect }

// Close closes the connections and removes the embedded store's private folder.
func (s *Store) Close() {
	if s.r != nil {
		_ = s.r.Close()
	}
	if s.w != nil {
		_ = s.w.Close()
	}
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}

// ts renders a time for the store: text in SQLite, timestamptz in PostgreSQL; NULL for the zero time.
func (s *Store) ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	if s.dialect == Postgres {
		return t.UTC()
	}
	return t.UTC().Format(sqliteTime)
}

const sqliteTime = "2006-01-02 15:04:05.000"

// bind turns ? placeholders of the store's own statements into PostgreSQL's $n.
func (s *Store) bind(q string) string {
	if s.dialect != Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

func (s *Store) jsonArg(b []byte) any {
	return string(b)
}

// Op is one change to the store: an object seen (Row set), gone (Delete), or a sweep of what a
// complete list did not hold.
type Op struct {
	Row    *Row
	Delete bool
	// Sweep removes the rows of Cluster and Resource whose epoch is older than Epoch.
	Sweep             bool
	Cluster, Resource string
	Epoch             int64
}

// write runs fn in one transaction of the writing connection, one writer at a time, within a minute;
// the transaction is committed when fn returns nil and rolled back otherwise.
func (s *Store) write(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if err := fn(ctx, tx); err != nil {
		return err
	}
	return tx.Commit()
}

// Apply writes ops in one transaction, deriving their history from what the store held before.
func (s *Store) Apply(ctx context.Context, ops []Op) error {
	if len(ops) == 0 {
		return nil
	}
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		now := s.opts.Now()
		since := now.Add(-s.opts.HistoryRetention)
		getOld, err := tx.PrepareContext(ctx, s.bind(`SELECT summary, rv FROM mcmcp_resource WHERE cluster = ? AND uid = ?`))
		if err != nil {
			return err
		}
		defer getOld.Close()
		// JSON is stored binary in both engines (SQLite's JSONB, PostgreSQL's jsonb): a path is then read
		// without parsing the document again, several times faster over a fleet's payloads.
		js := func(p string) string { return "jsonb(" + p + ")" }
		if s.dialect == Postgres {
			js = func(p string) string { return p + "::jsonb" }
		}
		upsert, err := tx.PrepareContext(ctx, s.bind(`INSERT INTO mcmcp_resource
			(cluster, api_group, version, kind, resource, namespace, name, uid, labels, created, updated, payload, summary, rv, epoch)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, `+js("?")+`, ?, ?, `+js("?")+`, ?, ?, ?)
			ON CONFLICT (cluster, uid) DO UPDATE SET api_group = excluded.api_group, version = excluded.version,
			kind = excluded.kind, resource = excluded.resource, namespace = excluded.namespace, name = excluded.name,
			labels = excluded.labels, created = excluded.created, updated = excluded.updated, payload = excluded.payload,
			summary = excluded.summary, rv = excluded.rv, epoch = excluded.epoch`))
		if err != nil {
			return err
		}
		defer upsert.Close()
		touch, err := tx.PrepareContext(ctx, s.bind(`UPDATE mcmcp_resource SET epoch = ? WHERE cluster = ? AND uid = ?`))
		if err != nil {
			return err
		}
		defer touch.Close()
		hist, err := tx.PrepareContext(ctx, s.bind(`INSERT INTO mcmcp_history
			(cluster, api_group, kind, namespace, name, uid, at, change, field, old, new) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`))
		if err != nil {
			return err
		}
		defer hist.Close()
		del, err := tx.PrepareContext(ctx, s.bind(`DELETE FROM mcmcp_resource WHERE cluster = ? AND uid = ?`))
		if err != nil {
			return err
		}
		defer del.Close()
		record := func(r *Row, changes []Change) error {
			if !historyOf(r.Kind) {
				return nil
			}
			for _, c := range changes {
				if c.At.Before(since) {
					continue
				}
				if _, err := hist.ExecContext(ctx, r.Cluster, r.Group, r.Kind, r.Namespace, r.Name, r.UID, s.ts(c.At), c.Change,
					nullable(c.Field), nullable(c.Old), nullable(c.New)); err != nil {
					return err
				}
			}
			return nil
		}
		for _, op := range ops {
			switch {
			case op.Sweep:
				if err := s.sweep(ctx, tx, op, record, now); err != nil {
					return err
				}
			case op.Delete:
				r := op.Row
				var sum, rv string
				err := getOld.QueryRowContext(ctx, r.Cluster, r.UID).Scan(&sum, &rv)
				if errors.Is(err, sql.ErrNoRows) {
					continue
				}
				if err != nil {
					return err
				}
				at := r.Deleted
				if at.IsZero() || at.After(now) {
					at = now
				}
				if err := record(r, []Change{{At: at, Change: ChangeDeleted}}); err != nil {
					return err
				}
				if _, err := del.ExecContext(ctx, r.Cluster, r.UID); err != nil {
					return err
				}
			default:
				r := op.Row
				var sum, rv string
				err := getOld.QueryRowContext(ctx, r.Cluster, r.UID).Scan(&sum, &rv)
				switch {
				case errors.Is(err, sql.ErrNoRows):
					if err := record(r, firstSight(r, now, since)); err != nil {
						return err
					}
				case err != nil:
					return err
				case rv != "" && rv == r.RV:
					if _, err := touch.ExecContext(ctx, op.Epoch, r.Cluster, r.UID); err != nil {
						return err
					}
					continue
				default:
					var old Summary
					_ = json.Unmarshal([]byte(sum), &old)
					if err := record(r, diff(old, r.Summary, now)); err != nil {
						return err
					}
				}
				summary, _ := json.Marshal(r.Summary)
				if _, err := upsert.ExecContext(ctx, r.Cluster, r.Group, r.Version, r.Kind, r.Resource, r.Namespace, r.Name, r.UID,
					s.jsonArg(r.Labels), s.ts(r.Created), s.ts(now), s.jsonArg(r.Payload), string(summary), r.RV, op.Epoch); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// sweep removes the rows a complete list of a resource no longer holds, recording their deletion.
func (s *Store) sweep(ctx context.Context, tx *sql.Tx, op Op, record func(*Row, []Change) error, now time.Time) error {
	rows, err := tx.QueryContext(ctx, s.bind(`SELECT api_group, kind, namespace, name, uid FROM mcmcp_resource
		WHERE cluster = ? AND resource = ? AND epoch < ?`), op.Cluster, op.Resource, op.Epoch)
	if err != nil {
		return err
	}
	var gone []*Row
	for rows.Next() {
		r := &Row{Cluster: op.Cluster, Resource: op.Resource}
		if err := rows.Scan(&r.Group, &r.Kind, &r.Namespace, &r.Name, &r.UID); err != nil {
			rows.Close()
			return err
		}
		gone = append(gone, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range gone {
		if err := record(r, []Change{{At: now, Change: ChangeDeleted}}); err != nil {
			return err
		}
	}
	if len(gone) == 0 {
		return nil
	}
	_, err = tx.ExecContext(ctx, s.bind(`DELETE FROM mcmcp_resource WHERE cluster = ? AND resource = ? AND epoch < ?`), op.Cluster, op.Resource, op.Epoch)
	return err
}

// Cluster states.
const (
	StateLive          = "live"
	StateArchive       = "archive"
	StateSyncing       = "syncing"
	StateRetrying      = "retrying"
	StateNoCredentials = "no-credentials"
)

// ClusterState is one row of k8s_cluster.
type ClusterState struct {
	Cluster, State, Error string
	Objects               int64
	Synced                time.Time // zero: never complete
}

// Indexed says whether the cluster's data is complete at Synced.
func (c ClusterState) Indexed() bool {
	return !c.Synced.IsZero() && (c.State == StateLive || c.State == StateArchive || c.State == StateRetrying)
}

// SetCluster records a cluster's state; synced is kept when zero. Objects are counted from the rows.
func (s *Store) SetCluster(ctx context.Context, c ClusterState) error {
	return s.SetClusters(ctx, []ClusterState{c})
}

// SetClusters records the states of many clusters in one transaction.
func (s *Store) SetClusters(ctx context.Context, states []ClusterState) error {
	if len(states) == 0 {
		return nil
	}
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, s.bind(`INSERT INTO mcmcp_cluster (cluster, state, objects, synced, error, seen)
			VALUES (?, ?, (SELECT count(*) FROM mcmcp_resource WHERE cluster = ?), ?, ?, ?)
			ON CONFLICT (cluster) DO UPDATE SET state = excluded.state, objects = excluded.objects,
			synced = COALESCE(excluded.synced, mcmcp_cluster.synced), error = excluded.error, seen = excluded.seen`))
		if err != nil {
			return err
		}
		defer st.Close()
		now := s.ts(s.opts.Now())
		for _, c := range states {
			if _, err := st.ExecContext(ctx, c.Cluster, c.State, c.Cluster, s.ts(c.Synced), nullable(c.Error), now); err != nil {
				return err
			}
		}
		return nil
	})
}

// DropCluster removes a cluster's rows and state (it left the fleet); its history stays until retention.
func (s *Store) DropCluster(ctx context.Context, cluster string) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.bind(`DELETE FROM mcmcp_resource WHERE cluster = ?`), cluster); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.bind(`DELETE FROM mcmcp_cluster WHERE cluster = ?`), cluster)
		return err
	})
}

// Clusters returns every cluster's state, sorted by name.
func (s *Store) Clusters(ctx context.Context) ([]ClusterState, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rows, err := s.r.QueryContext(ctx, `SELECT cluster, state, objects, synced, error FROM mcmcp_cluster ORDER BY cluster`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ClusterState
	for rows.Next() {
		var c ClusterState
		var synced any
		var msg sql.NullString
		if err := rows.Scan(&c.Cluster, &c.State, &c.Objects, &synced, &msg); err != nil {
			return nil, err
		}
		c.Synced = parseTime(synced)
		c.Error = msg.String
		out = append(out, c)
	}
	return out, rows.Err()
}

// parseTime reads a time column of either engine.
func parseTime(v any) time.Time {
	switch t := v.(type) {
	case time.Time:
		return t
	case string:
		if tt, err := time.Parse(sqliteTime, t); err == nil {
			return tt
		}
		tt, _ := time.Parse(time.RFC3339Nano, t)
		return tt
	case []byte:
		return parseTime(string(t))
	}
	return time.Time{}
}

// Prune applies the history retention: rows older than it, and the oldest beyond the row cap.
func (s *Store) Prune(ctx context.Context) (int64, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	res, err := s.w.ExecContext(ctx, s.bind(`DELETE FROM mcmcp_history WHERE at < ?`), s.ts(s.opts.Now().Add(-s.opts.HistoryRetention)))
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	res, err = s.w.ExecContext(ctx, s.bind(`DELETE FROM mcmcp_history WHERE id <= (SELECT max(id) FROM mcmcp_history) - ?`), s.opts.HistoryMaxRows)
	if err != nil {
		return n, err
	}
	m, _ := res.RowsAffected()
	return n + m, nil
}

// Size is the store's size on disk in bytes (the database file and its WAL; PostgreSQL: the tables'
// total relation size).
func (s *Store) Size(ctx context.Context) (int64, error) {
	if s.dialect == Postgres {
		var n int64
		err := s.w.QueryRowContext(ctx, `SELECT pg_total_relation_size('mcmcp_resource') + pg_total_relation_size('mcmcp_history') + pg_total_relation_size('mcmcp_cluster')`).Scan(&n)
		return n, err
	}
	var pages, size int64
	if err := s.w.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		return 0, err
	}
	if err := s.w.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&size); err != nil {
		return 0, err
	}
	return pages * size, nil
}
