package archives

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var alice, aliceAgain, bob = Owner{User: "alice", UID: "1"}, Owner{User: "alice", UID: "2"}, Owner{User: "bob", UID: "3"}

// archive writes a file of n bytes in dir.
func archive(t *testing.T, dir, name string, n int) string {
	t.Helper()
	p := filepath.Join(dir, name+".tar.gz")
	if err := os.WriteFile(p, make([]byte, n), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func open(t *testing.T, dir string, c *clock, quota int64) *Store {
	t.Helper()
	s, err := Open(Options{Dir: dir, Retention: time.Hour, QuotaBytes: quota, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestArchivesBelongToTheirCollector: only the collector reads or lists an archive; anyone else, the same
// name with another UID included, gets ErrNotFound, as for an id that does not exist.
func TestArchivesBelongToTheirCollector(t *testing.T) {
	dir := t.TempDir()
	c := &clock{t: time.Unix(1e9, 0)}
	s := open(t, dir, c, 1<<20)
	e, err := s.Add(alice, archive(t, dir, "a", 100), 100, "summary")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		owner Owner
		id    string
		ok    bool
	}{
		{"the collector", alice, e.ID, true},
		{"another user", bob, e.ID, false},
		{"the same name with another UID", aliceAgain, e.ID, false},
		{"no caller", Owner{}, e.ID, false},
		{"an id that does not exist", alice, "nope", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Get(tc.owner, tc.id)
			if tc.ok != (err == nil) || (!tc.ok && !errors.Is(err, ErrNotFound)) {
				t.Fatalf("Get: %v, %v", got, err)
			}
			if n := len(s.List(tc.owner)); tc.id == e.ID && n != map[bool]int{true: 1, false: 0}[tc.ok] {
				t.Errorf("List holds %d archive(s)", n)
			}
		})
	}
	// A restart keeps the owner.
	again := open(t, dir, c, 1<<20)
	if _, err := again.Get(alice, e.ID); err != nil {
		t.Errorf("after a restart: %v", err)
	}
	if _, err := again.Get(bob, e.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("bob after a restart: %v", err)
	}
}

// TestArchivesExpire: past the retention an archive is unknown, and Expire deletes its file and record.
func TestArchivesExpire(t *testing.T) {
	dir := t.TempDir()
	c := &clock{t: time.Unix(1e9, 0)}
	s := open(t, dir, c, 1<<20)
	old, _ := s.Add(alice, archive(t, dir, "old", 10), 10, "")
	c.add(40 * time.Minute)
	fresh, _ := s.Add(alice, archive(t, dir, "fresh", 10), 10, "")
	c.add(30 * time.Minute)
	if _, err := s.Get(alice, old.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("an expired archive: %v", err)
	}
	if n := s.Expire(); n != 1 {
		t.Errorf("Expire deleted %d; want 1", n)
	}
	for _, p := range []string{old.Path, old.Path + recordSuffix} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there: %v", p, err)
		}
	}
	if _, err := s.Get(alice, fresh.ID); err != nil {
		t.Errorf("the fresh archive: %v", err)
	}
}

// TestArchivesQuota: a collection is refused when the quota is full, and an archive that would take the
// total beyond it is deleted and refused, saying what to do.
func TestArchivesQuota(t *testing.T) {
	dir := t.TempDir()
	c := &clock{t: time.Unix(1e9, 0)}
	s := open(t, dir, c, 100)
	if _, err := s.Add(alice, archive(t, dir, "a", 60), 60, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Check(); err != nil {
		t.Fatalf("60 of 100 used: %v", err)
	}
	big := archive(t, dir, "b", 50)
	_, err := s.Add(bob, big, 50, "")
	if err == nil || !strings.Contains(err.Error(), "60 of 100 bytes used") || !strings.Contains(err.Error(), "--must-gather-quota-bytes") {
		t.Fatalf("beyond the quota: %v", err)
	}
	if _, err := os.Stat(big); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the refused archive is still on disk: %v", err)
	}
	if _, err := s.Add(bob, archive(t, dir, "c", 40), 40, ""); err != nil {
		t.Fatalf("up to the quota: %v", err)
	}
	if err := s.Check(); err == nil || !strings.Contains(err.Error(), "fill the server's quota") {
		t.Errorf("a full quota: %v", err)
	}
}
