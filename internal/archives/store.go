// Package archives keeps the must-gather archives the server collected for its callers: who collected
// each (only they may read it), how long it stays (retention, enforced by a janitor), and how much disk
// they may take together (a quota checked before and after each collection).
package archives

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Defaults of the settings.
const (
	DefaultRetention  = 24 * time.Hour
	DefaultQuotaBytes = 10 << 30
)

// Owner is who collected an archive: the authenticated user and UID ("" for both over stdio or without
// authentication).
type Owner struct{ User, UID string }

// Entry is one kept archive.
type Entry struct {
	ID        string    `json:"id"`
	Path      string    `json:"path"`
	Owner     Owner     `json:"owner"`
	Bytes     int64     `json:"bytes"`
	Collected time.Time `json:"collected"`
	Expires   time.Time `json:"expires"`
	Summary   string    `json:"summary"`
}

// ErrNotFound is the answer for an archive that is not the caller's, whatever the reason.
var ErrNotFound = errors.New("no such must-gather archive: it is not one you collected, it expired, or it was removed")

// Options configure a Store.
type Options struct {
	// Dir holds the archives and, beside each, its record (<archive>.owner.json).
	Dir        string
	Retention  time.Duration
	QuotaBytes int64
	Now        func() time.Time
	Log        *zap.Logger
}

// Store is the set of kept archives.
type Store struct {
	o Options

	mu   sync.Mutex
	byID map[string]*Entry
}

const recordSuffix = ".owner.json"

// Open makes a store over Dir and reloads the records a previous run left there.
func Open(o Options) (*Store, error) {
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	if o.QuotaBytes <= 0 {
		o.QuotaBytes = DefaultQuotaBytes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("must-gather folder: %w", err)
	}
	s := &Store{o: o, byID: map[string]*Entry{}}
	records, err := filepath.Glob(filepath.Join(o.Dir, "*"+recordSuffix))
	if err != nil {
		return nil, err
	}
	for _, r := range records {
		data, err := os.ReadFile(r)
		var e Entry
		if err != nil || json.Unmarshal(data, &e) != nil || e.ID == "" || filepath.Dir(e.Path) != filepath.Clean(o.Dir) {
			o.Log.Warn("ignoring an unreadable must-gather record", zap.String("record", r))
			continue
		}
		s.byID[e.ID] = &e
	}
	return s, nil
}

// used is the disk the kept archives take.
func (s *Store) usedLocked() int64 {
	var n int64
	for _, e := range s.byID {
		n += e.Bytes
	}
	return n
}

// Check refuses a new collection when the kept archives already fill the quota.
func (s *Store) Check() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if used := s.usedLocked(); used >= s.o.QuotaBytes {
		return s.quotaError(used, 0)
	}
	return nil
}

func (s *Store) quotaError(used, adding int64) error {
	oldest := ""
	var first *Entry
	for _, e := range s.byID {
		if first == nil || e.Expires.Before(first.Expires) {
			first = e
		}
	}
	if first != nil {
		oldest = ", the first expires at " + first.Expires.UTC().Format(time.RFC3339)
	}
	what := "the kept must-gather archives fill the server's quota"
	if adding > 0 {
		what = fmt.Sprintf("this archive (%d bytes) would take the kept must-gather archives beyond the server's quota", adding)
	}
	return fmt.Errorf("%s: %d of %d bytes used by %d archive(s) kept for %s%s. Collect fewer clusters or namespaces, "+
		"wait for archives to expire, or ask the operator to raise --must-gather-quota-bytes or shorten --must-gather-retention",
		what, used, s.o.QuotaBytes, len(s.byID), s.o.Retention, oldest)
}

// Add keeps a collected archive for its owner; one that would exceed the quota is deleted and refused.
func (s *Store) Add(owner Owner, path string, bytes int64, summary string) (*Entry, error) {
	if filepath.Dir(path) != filepath.Clean(s.o.Dir) {
		return nil, fmt.Errorf("archive %s is not in the must-gather folder", path)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if used := s.usedLocked(); used+bytes > s.o.QuotaBytes {
		_ = os.Remove(path)
		return nil, s.quotaError(used, bytes)
	}
	now := s.o.Now()
	e := &Entry{ID: rand.Text(), Path: path, Owner: owner, Bytes: bytes, Collected: now, Expires: now.Add(s.o.Retention), Summary: summary}
	data, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path+recordSuffix, data, 0o600); err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("recording the archive's owner: %w", err)
	}
	s.byID[e.ID] = e
	return e, nil
}

// Get returns the owner's archive, or ErrNotFound.
func (s *Store) Get(owner Owner, id string) (*Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.byID[id]
	if e == nil || e.Owner != owner || !s.o.Now().Before(e.Expires) {
		return nil, ErrNotFound
	}
	c := *e
	return &c, nil
}

// List returns the owner's archives, newest first.
func (s *Store) List(owner Owner) []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.o.Now()
	var out []Entry
	for _, e := range s.byID {
		if e.Owner == owner && now.Before(e.Expires) {
			out = append(out, *e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Collected.After(out[j].Collected) })
	return out
}

// Expire deletes the archives past their retention and returns how many.
func (s *Store) Expire() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.o.Now()
	n := 0
	for id, e := range s.byID {
		if now.Before(e.Expires) {
			continue
		}
		for _, p := range []string{e.Path, e.Path + recordSuffix} {
			if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				s.o.Log.Warn("could not delete an expired must-gather archive", zap.String("path", p), zap.Error(err))
			}
		}
		delete(s.byID, id)
		n++
	}
	return n
}

// Run deletes expired archives until ctx ends, checking every tick (0: a tenth of the retention, between
// a second and a minute).
func (s *Store) Run(ctx context.Context, tick time.Duration) {
	if tick <= 0 {
		tick = min(max(s.o.Retention/10, time.Second), time.Minute)
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		if n := s.Expire(); n > 0 {
			s.o.Log.Info("deleted expired must-gather archives", zap.Int("count", n), zap.Duration("retention", s.o.Retention))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Name is an archive's file name, for listings.
func (e Entry) Name() string { return strings.TrimSuffix(filepath.Base(e.Path), ".tar.gz") }
