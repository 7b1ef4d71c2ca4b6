// Package diagnose runs OCM troubleshooting checks over the hub and the spokes, live or on a
// must-gather archive, and ranks what they find. Each check is a small function: what it looked at,
// what it found, how bad, the evidence, the next step, and the kubectl calls that verify it.
package diagnose

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/fanout"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/telemetry"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

// Severity orders findings.
type Severity int

const (
	Info Severity = iota
	Warning
	Critical
)

func (s Severity) String() string {
	return [...]string{"info", "warning", "critical"}[s]
}

// Finding is one problem a check found.
type Finding struct {
	ID       string
	Severity Severity
	// Rank breaks ties: a root cause outranks its symptoms (higher first).
	Rank     int
	Subject  string // "cluster spoke3", "add-on foo"
	Title    string
	Looked   []string // objects the check read
	Evidence []string
	Next     string
	Verify   []string // tool calls that verify, e.g. "kubectl cluster=hub: get lease ... -o yaml"
	Runbook  string
}

// Configs gives REST configs for the hub and spokes (auth.Provider live, the archive offline).
type Configs interface {
	RESTConfig(ctx context.Context, t ocm.Target) (*rest.Config, error)
	// Provisioned says whether the server holds credentials for the cluster already.
	Provisioned(cluster string) bool
}

// Target says what to diagnose: a cluster, an add-on (optionally on one cluster), or, both empty,
// the whole fleet.
type Target struct {
	Cluster string
	AddOn   string
}

// Runner holds what the checks read through.
type Runner struct {
	Source  ocm.Source
	Configs Configs
	Now     time.Time
	// Offline is set for archives: the spoke is "reachable" when the archive holds its folder.
	Offline bool
	// Permit, when set, says whether a cluster may be diagnosed (the caller may read it); a fleet
	// diagnosis covers only those.
	Permit func(ctx context.Context, cluster string) bool
	// Concurrency bounds how many clusters a fleet diagnosis checks at once (default 8).
	Concurrency int

	hub dynamic.Interface
	// hubCache holds the hub-wide lists of a fleet diagnosis (nil otherwise).
	hubCache *hubCache

	hubURLsOnce sync.Once
	hubURLs     []string // the URLs the hub publishes to its agents (hubHosts)

	mu      sync.Mutex // guards spokes and checked: a fleet diagnosis checks clusters concurrently
	spokes  map[string]*spoke
	checked []string
}

type spoke struct {
	once sync.Once
	dyn  dynamic.Interface
	kube kubernetes.Interface // for what the dynamic client cannot read: logs
	err  error                // why the spoke cannot be read: it was tried, and that is evidence
	// unchecked says why the spoke was not tried at all, which is no evidence about it.
	unchecked string
}

func (s *spoke) readable() bool { return s.err == nil && s.unchecked == "" }

// Report is the outcome of a diagnosis.
type Report struct {
	Target   Target
	Findings []Finding
	Checked  []string
	Took     time.Duration
}

// Run diagnoses the target.
func (r *Runner) Run(ctx context.Context, t Target) (*Report, error) {
	began := time.Now()
	cfg, err := r.Configs.RESTConfig(ctx, ocm.Target{Name: ocm.HubName, Hub: true})
	if err != nil {
		return nil, err
	}
	if r.hub, err = dynamic.NewForConfig(cfg); err != nil {
		return nil, err
	}
	r.spokes = map[string]*spoke{}
	var findings []Finding
	switch {
	case t.AddOn != "":
		findings, err = r.addOn(ctx, t.AddOn, t.Cluster)
	case t.Cluster != "":
		findings, err = r.cluster(ctx, t.Cluster)
	default:
		findings, err = r.fleet(ctx)
	}
	if err != nil {
		return nil, err
	}
	sort.SliceStable(findings, func(i, j int) bool {
		if findings[i].Severity != findings[j].Severity {
			return findings[i].Severity > findings[j].Severity
		}
		return findings[i].Rank > findings[j].Rank
	})
	return &Report{Target: t, Findings: findings, Checked: r.checked, Took: time.Since(began)}, nil
}

func (r *Runner) check(what string) {
	r.mu.Lock()
	r.checked = append(r.checked, what)
	r.mu.Unlock()
}

// spokeClient returns a client for a spoke, or why there is none. It does not provision credentials for
// a cluster that is not available (that would only wait for a token its agents cannot deliver), and a
// cluster an archive does not hold is left unchecked.
func (r *Runner) spokeClient(ctx context.Context, t ocm.Target) *spoke {
	r.mu.Lock()
	s, ok := r.spokes[t.Name]
	if !ok {
		s = &spoke{}
		r.spokes[t.Name] = s
	}
	r.mu.Unlock()
	s.once.Do(func() { r.connect(ctx, t, s) })
	return s
}

func (r *Runner) connect(ctx context.Context, t ocm.Target, s *spoke) {
	// Offline, Provisioned is always true: an archive needs no credentials.
	if ocm.WouldWaitForToken(t, r.Configs.Provisioned) {
		s.unchecked = ocm.NoCredentialsYet
		return
	}
	cfg, err := r.Configs.RESTConfig(ctx, t)
	var notCollected interface{ NotCollected() bool }
	if errors.As(err, &notCollected) && notCollected.NotCollected() {
		s.unchecked = err.Error()
		return
	}
	if err == nil {
		s.dyn, err = dynamic.NewForConfig(cfg)
	}
	if err == nil {
		s.kube, err = kubernetes.NewForConfig(cfg)
	}
	s.err = err
}

func (r *Runner) fleet(ctx context.Context) ([]Finding, error) {
	// The hub-wide lists are read before any cluster is: the diagnosis judges the hub's evidence as it
	// was when it began, not objects caught halfway through a change made while it runs.
	r.hubCache = newHubCache(ctx, r.hub)
	defer func() { r.hubCache = nil }()
	clusters, err := r.Source.ManagedClusters(ctx, everything)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, mc := range clusters {
		if r.Permit == nil || r.Permit(ctx, mc.Name) {
			names = append(names, mc.Name)
		}
	}
	// Clusters are checked concurrently, with a bound; findings and checks keep the clusters' order.
	per := make([][]Finding, len(names))
	errs := make([]error, len(names))
	limit := r.Concurrency
	if limit <= 0 {
		limit = 8
	}
	// A cluster not started before the deadline fails the diagnosis with the context's error.
	fanout.Run(ctx, len(names), limit, func(ctx context.Context, i int) {
		ctx, done := telemetry.Cluster(ctx, names[i])
		per[i], errs[i] = r.cluster(ctx, names[i])
		outcome := "ok"
		if errs[i] != nil {
			outcome = "failed"
		}
		done(outcome)
	}, func(i int, err error) {
		telemetry.Skipped(ctx, names[i])
		errs[i] = err
	})
	var all []Finding
	for i := range names {
		if errs[i] != nil {
			return nil, errs[i]
		}
		all = append(all, per[i]...)
	}
	r.sortChecks(names)
	cmas, err := r.list(ctx, r.hub, gvrCMA, "", "")
	if err != nil {
		return nil, err
	}
	for _, cma := range cmas {
		f, err := r.addOnInstall(ctx, cma.GetName(), "")
		if err != nil {
			return nil, err
		}
		all = append(all, f...)
	}
	return all, nil
}

// sortChecks puts the checks of concurrently diagnosed clusters back in the clusters' order (each
// cluster's own checks keep theirs: one goroutine made them).
func (r *Runner) sortChecks(clusters []string) {
	order := make(map[string]int, len(clusters))
	for i, c := range clusters {
		order[c] = i
	}
	rank := func(check string) int {
		name, _, _ := strings.Cut(check, ":")
		if i, ok := order[name]; ok {
			return i
		}
		return len(clusters)
	}
	r.mu.Lock()
	sort.SliceStable(r.checked, func(i, j int) bool { return rank(r.checked[i]) < rank(r.checked[j]) })
	r.mu.Unlock()
}

// byKind summarises a fleet diagnosis: each kind of finding, how often, and where (the first clusters
// by name, then a count), in the order of the findings, so that a fault repeated over many clusters
// reads as one line before the cap cuts the details.
func (rep *Report) byKind() string {
	type kind struct {
		id       string
		n        int
		clusters []string
		seen     map[string]bool
	}
	var order []*kind
	byID := map[string]*kind{}
	for _, f := range rep.Findings {
		k, ok := byID[f.ID]
		if !ok {
			k = &kind{id: f.ID, seen: map[string]bool{}}
			byID[f.ID] = k
			order = append(order, k)
		}
		k.n++
		if c := f.Subject[strings.LastIndex(f.Subject, " ")+1:]; !k.seen[c] {
			k.seen[c] = true
			k.clusters = append(k.clusters, c)
		}
	}
	var b strings.Builder
	b.WriteString("By kind:")
	for _, k := range order {
		where := k.clusters
		more := ""
		if len(where) > 5 {
			where, more = where[:5], fmt.Sprintf(" and %d more", len(k.clusters)-5)
		}
		fmt.Fprintf(&b, " %s x%d (%s%s);", k.id, k.n, strings.Join(where, ", "), more)
	}
	return strings.TrimSuffix(b.String(), ";") + ".\n"
}

// Subject names what was diagnosed: the fleet, a cluster, an add-on (on a cluster).
func (rep *Report) Subject() string {
	switch {
	case rep.Target.AddOn != "" && rep.Target.Cluster != "":
		return fmt.Sprintf("add-on %s on cluster %s", rep.Target.AddOn, rep.Target.Cluster)
	case rep.Target.AddOn != "":
		return "add-on " + rep.Target.AddOn
	case rep.Target.Cluster != "":
		return "cluster " + rep.Target.Cluster
	}
	return "the fleet"
}

// Render writes the report for a model: findings by severity, root cause first, compact.
func (rep *Report) Render() string {
	var b strings.Builder
	subject := rep.Subject()
	if len(rep.Findings) == 0 {
		fmt.Fprintf(&b, "No problem found for %s (%d checks in %s).\nChecked: %s.\n", subject, len(rep.Checked), rep.Took.Round(time.Millisecond), strings.Join(rep.Checked, "; "))
		return b.String()
	}
	counts := map[Severity]int{}
	for _, f := range rep.Findings {
		counts[f.Severity]++
	}
	fmt.Fprintf(&b, "Diagnosis of %s: %d finding(s) (%d critical, %d warning, %d info) from %d checks in %s. Most probable root cause first.\n",
		subject, len(rep.Findings), counts[Critical], counts[Warning], counts[Info], len(rep.Checked), rep.Took.Round(time.Millisecond))
	if rep.Target == (Target{}) {
		b.WriteString(rep.byKind())
	}
	for _, f := range rep.Findings {
		fmt.Fprintf(&b, "\n[%s] %s (%s): %s\n", f.Severity, f.ID, f.Subject, f.Title)
		if len(f.Looked) > 0 {
			fmt.Fprintf(&b, "  looked at: %s\n", strings.Join(f.Looked, "; "))
		}
		for _, e := range f.Evidence {
			fmt.Fprintf(&b, "  evidence: %s\n", e)
		}
		if f.Next != "" {
			fmt.Fprintf(&b, "  next: %s\n", f.Next)
		}
		for _, v := range f.Verify {
			fmt.Fprintf(&b, "  verify: %s\n", v)
		}
		if f.Runbook != "" {
			fmt.Fprintf(&b, "  runbook: %s\n", f.Runbook)
		}
	}
	fmt.Fprintf(&b, "\nChecked: %s.\n", strings.Join(rep.Checked, "; "))
	return b.String()
}
