// Package budget keeps the spending limits of the server's callers and clusters: how many changes a
// caller, and a cluster, may take within a sliding window (an hour by default), how many clusters a
// caller's read fan-outs may reach, and how many must-gathers a caller may collect. A spent budget
// refuses the call with when the next one fits; nothing is queued.
//
// The ledger is in memory: every server process keeps its own, and a restart forgets it. With several
// replicas behind one Service the fleet-wide limit is the number of replicas times the setting.
package budget

import (
	"fmt"
	"sort"
	"sync"
	"time"
)

// Name names a budget: what is counted and for whom.
type Name string

// The budgets, as the settings and refusals name them.
const (
	ChangesPerCaller  Name = "changes-per-caller"
	ChangesPerCluster Name = "changes-per-cluster"
	FanOutPerCaller   Name = "fanout-clusters-per-caller"
	GathersPerCaller  Name = "must-gathers-per-caller"
)

// Budget is one row of the policy: what it counts, in which unit, and the setting that sizes it.
type Budget struct {
	Name Name
	// Unit is what one spend counts ("change", "cluster read", "must-gather").
	Unit string
	// Whose says who spends it ("caller", "cluster").
	Whose string
	// Default is the limit per window when no setting says otherwise; 0 means no limit.
	Default int
	// Usage explains the budget in the settings' help and the README.
	Usage string
}

// Budgets is the policy as data: every budget the server keeps.
func Budgets() []Budget {
	return []Budget{
		{ChangesPerCaller, "change", "caller", 60, "kubectl_write changes one caller may make per window, on all clusters together"},
		{ChangesPerCluster, "change", "cluster", 30, "kubectl_write changes all callers together may make on one cluster per window"},
		{FanOutPerCaller, "cluster read", "caller", 100_000, "clusters one caller's kubectl fan-outs may reach per window (a fan-out over 2,000 clusters spends 2,000)"},
		{GathersPerCaller, "must-gather", "caller", 6, "must_gather collections one caller may start per window"},
	}
}

// Defaults are every budget's default limit.
func Defaults() map[Name]int {
	out := map[Name]int{}
	for _, b := range Budgets() {
		out[b.Name] = b.Default
	}
	return out
}

// Spend is what one call would spend: n units of a budget, for one caller or cluster.
type Spend struct {
	Budget Name
	Who    string
	N      int
}

// buckets is one spender's use, per minute of the window.
type buckets struct {
	minute []int64 // the minute (Unix time / 60) each slot counts, 0 when unused
	n      []int
}

func (b *buckets) used(now, window int64) int {
	total := 0
	for i, m := range b.minute {
		if m > now-window {
			total += b.n[i]
		}
	}
	return total
}

// freeAt is the first minute at which used, less what has expired by then, plus n fits within limit.
func (b *buckets) freeAt(now, window int64, used, n, limit int) int64 {
	type slot struct {
		minute int64
		n      int
	}
	var live []slot
	for i, m := range b.minute {
		if m > now-window && b.n[i] > 0 {
			live = append(live, slot{m, b.n[i]})
		}
	}
	sort.Slice(live, func(i, j int) bool { return live[i].minute < live[j].minute })
	for _, s := range live {
		used -= s.n
		if used+n <= limit {
			return s.minute + window
		}
	}
	return now + window
}

func (b *buckets) add(now, window int64, n int) {
	slot := int(now % window)
	if b.minute[slot] != now {
		b.minute[slot], b.n[slot] = now, 0
	}
	b.n[slot] += n
}

func (b *buckets) idle(now, window int64) bool { return b.used(now, window) == 0 }

// Options size a Ledger.
type Options struct {
	// Limits per window by budget; a budget absent or at 0 is not limited.
	Limits map[Name]int
	// Window is how far back spending counts (default an hour; whole minutes).
	Window time.Duration
	// MaxSpenders bounds how many callers and clusters are tracked at once (default 100,000); when full,
	// spenders with nothing left in the window are forgotten, and a new one is refused if none is.
	MaxSpenders int
	// Now is the clock (default time.Now); tests pin it.
	Now func() time.Time
}

// Ledger records spending and refuses what does not fit.
type Ledger struct {
	limits map[Name]int
	window int64 // minutes
	max    int
	now    func() time.Time
	mu     sync.Mutex
	spent  map[spender]*buckets
}

type spender struct {
	budget Name
	who    string
}

// New makes a ledger.
func New(o Options) *Ledger {
	l := &Ledger{limits: map[Name]int{}, window: int64(o.Window / time.Minute), max: o.MaxSpenders, now: o.Now, spent: map[spender]*buckets{}}
	for k, v := range o.Limits {
		if v > 0 {
			l.limits[k] = v
		}
	}
	if l.window <= 0 {
		l.window = 60
	}
	if l.max <= 0 {
		l.max = 100_000
	}
	if l.now == nil {
		l.now = time.Now
	}
	return l
}

// Limit is a budget's limit per window (0: none).
func (l *Ledger) Limit(b Name) int { return l.limits[b] }

// Window is how far back spending counts.
func (l *Ledger) Window() time.Duration { return time.Duration(l.window) * time.Minute }

// Check says whether every spend would fit now, without spending anything.
func (l *Ledger) Check(spends ...Spend) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.check(l.minute(), spends)
}

// Take spends all the spends, or none of them when one does not fit.
func (l *Ledger) Take(spends ...Spend) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.minute()
	if err := l.check(now, spends); err != nil {
		return err
	}
	for _, s := range spends {
		if l.limits[s.Budget] == 0 || s.N <= 0 {
			continue
		}
		k := spender{s.Budget, s.Who}
		b := l.spent[k]
		if b == nil {
			b = &buckets{minute: make([]int64, l.window), n: make([]int, l.window)}
			l.spent[k] = b
		}
		b.add(now, l.window, s.N)
	}
	return nil
}

func (l *Ledger) minute() int64 { return l.now().Unix() / 60 }

func (l *Ledger) check(now int64, spends []Spend) error {
	fresh := 0
	for _, s := range spends {
		limit := l.limits[s.Budget]
		if limit == 0 || s.N <= 0 {
			continue
		}
		b := l.spent[spender{s.Budget, s.Who}]
		used := 0
		if b == nil {
			fresh++
		} else {
			used = b.used(now, l.window)
		}
		if used+s.N > limit {
			next := now + l.window
			if b != nil && s.N <= limit {
				next = b.freeAt(now, l.window, used, s.N, limit)
			}
			return &Spent{Budget: s.Budget, Who: s.Who, Limit: limit, Used: used, Want: s.N, Window: l.Window(),
				NextAt: time.Unix(next*60, 0).UTC(), Never: s.N > limit, now: l.now()}
		}
	}
	if len(l.spent)+fresh > l.max {
		for k, b := range l.spent {
			if b.idle(now, l.window) {
				delete(l.spent, k)
			}
		}
		if len(l.spent)+fresh > l.max {
			return fmt.Errorf("the server tracks the budgets of %d callers and clusters at once and all of them are spending; try again later", l.max)
		}
	}
	return nil
}

// Spent is the refusal of a spend that does not fit.
type Spent struct {
	Budget      Name
	Who         string
	Limit, Used int
	Want        int
	Window      time.Duration
	// NextAt is when the spend would fit again; Never is set when it is larger than the limit itself.
	NextAt time.Time
	Never  bool
	now    time.Time
}

func (s *Spent) Error() string {
	var unit, whose string
	for _, b := range Budgets() {
		if b.Name == s.Budget {
			unit, whose = b.Unit, b.Whose
		}
	}
	if s.Never {
		return fmt.Sprintf("budget %s: this call would spend %d %s(s) of %s %s, more than the whole budget of %d per %s; narrow it, or raise --budget-%s",
			s.Budget, s.Want, unit, whose, s.Who, s.Limit, s.Window, s.Budget)
	}
	wait := s.NextAt.Sub(s.now).Round(time.Second)
	return fmt.Sprintf("budget %s is spent: %s %s has used %d of %d %s(s) in the last %s and this call needs %d; "+
		"the next fits at %s (in %s). Nothing was done. Wait, or have the operator raise --budget-%s",
		s.Budget, whose, s.Who, s.Used, s.Limit, unit, s.Window, s.Want, s.NextAt.Format("15:04:05 MST"), wait, s.Budget)
}
