package budget

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                   { return &clock{t: time.Date(2026, 12, 1, 10, 0, 30, 0, time.UTC)} }
func change(who string) Spend            { return Spend{Budget: ChangesPerCaller, Who: who, N: 1} }
func clusterChange(cluster string) Spend { return Spend{Budget: ChangesPerCluster, Who: cluster, N: 1} }
func reads(who string, n int) Spend      { return Spend{Budget: FanOutPerCaller, Who: who, N: n} }

func TestLedger(t *testing.T) {
	type step struct {
		after  time.Duration
		spends []Spend
		want   string // "" allowed, else a part of the refusal
	}
	cases := []struct {
		name   string
		limits map[Name]int
		steps  []step
	}{
		{"within the limit", map[Name]int{ChangesPerCaller: 2}, []step{
			{0, []Spend{change("alice")}, ""},
			{time.Minute, []Spend{change("alice")}, ""},
		}},
		{"spent, then free again an hour after the first", map[Name]int{ChangesPerCaller: 2}, []step{
			{0, []Spend{change("alice")}, ""},
			{10 * time.Minute, []Spend{change("alice")}, ""},
			{time.Minute, []Spend{change("alice")}, "used 2 of 2 change(s) in the last 1h0m0s"},
			{49 * time.Minute, []Spend{change("alice")}, ""},
			{time.Minute, []Spend{change("alice")}, "the next fits at 11:10:00 UTC"},
		}},
		{"callers spend apart", map[Name]int{ChangesPerCaller: 1}, []step{
			{0, []Spend{change("alice")}, ""},
			{0, []Spend{change("bob")}, ""},
			{0, []Spend{change("alice")}, "caller alice"},
		}},
		{"all or nothing: a spent cluster spends nothing of the caller", map[Name]int{ChangesPerCaller: 2, ChangesPerCluster: 1}, []step{
			{0, []Spend{change("alice"), clusterChange("spoke1")}, ""},
			{0, []Spend{change("alice"), clusterChange("spoke1")}, "cluster spoke1"},
			{0, []Spend{change("alice"), clusterChange("spoke2")}, ""},
			{0, []Spend{change("alice"), clusterChange("spoke3")}, "caller alice has used 2 of 2"},
		}},
		{"a limit of 0 is no limit", map[Name]int{ChangesPerCaller: 0}, []step{
			{0, []Spend{change("alice")}, ""}, {0, []Spend{change("alice")}, ""}, {0, []Spend{change("alice")}, ""},
		}},
		{"wide fan-outs spend their width", map[Name]int{FanOutPerCaller: 2500}, []step{
			{0, []Spend{reads("alice", 2000)}, ""},
			{0, []Spend{reads("alice", 500)}, ""},
			{0, []Spend{reads("alice", 1)}, "used 2500 of 2500 cluster read(s)"},
		}},
		{"wider than the whole budget", map[Name]int{FanOutPerCaller: 100}, []step{
			{0, []Spend{reads("alice", 101)}, "more than the whole budget of 100"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock()
			l := New(Options{Limits: tc.limits, Now: c.now})
			for i, s := range tc.steps {
				c.advance(s.after)
				if err := l.Check(s.spends...); (err == nil) != (s.want == "") {
					t.Fatalf("step %d: Check = %v, want %q", i, err, s.want)
				}
				err := l.Take(s.spends...)
				switch {
				case s.want == "" && err != nil:
					t.Fatalf("step %d: refused: %v", i, err)
				case s.want != "" && (err == nil || !strings.Contains(err.Error(), s.want)):
					t.Fatalf("step %d: got %v, want a refusal with %q", i, err, s.want)
				}
				var spent *Spent
				if s.want != "" && !errors.As(err, &spent) {
					t.Fatalf("step %d: %T is not a *Spent", i, err)
				}
			}
		})
	}
}

func TestLedgerBoundsSpenders(t *testing.T) {
	c := newClock()
	l := New(Options{Limits: map[Name]int{ChangesPerCaller: 5}, MaxSpenders: 3, Now: c.now})
	for _, who := range []string{"a", "b", "c"} {
		if err := l.Take(change(who)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Take(change("d")); err == nil || !strings.Contains(err.Error(), "3 callers and clusters") {
		t.Fatalf("a fourth spender while three are spending: %v", err)
	}
	if err := l.Take(change("a")); err != nil {
		t.Fatalf("a known spender is not refused for the bound: %v", err)
	}
	c.advance(61 * time.Minute)
	if err := l.Take(change("d")); err != nil {
		t.Fatalf("idle spenders are forgotten: %v", err)
	}
	if len(l.spent) != 1 {
		t.Fatalf("tracked %d spenders, want 1", len(l.spent))
	}
}

func TestLedgerConcurrentTakes(t *testing.T) {
	l := New(Options{Limits: map[Name]int{ChangesPerCluster: 10}})
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if l.Take(clusterChange("spoke1")) == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ok != 10 {
		t.Fatalf("%d of 50 concurrent takes went through, want exactly 10", ok)
	}
}

func TestBudgetsTable(t *testing.T) {
	seen := map[Name]bool{}
	for _, b := range Budgets() {
		if seen[b.Name] || b.Unit == "" || b.Whose == "" || b.Usage == "" || b.Default <= 0 {
			t.Errorf("budget row %+v: duplicate or incomplete", b)
		}
		seen[b.Name] = true
	}
}
