package selfaddon

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestParsePlacements(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want string
		err  bool
	}{
		{in: []string{"ns/a", " ns2/b "}, want: "ns/a,ns2/b"},
		{in: nil, want: ""},
		{in: []string{"a"}, err: true},
		{in: []string{"/a"}, err: true},
		{in: []string{"ns/"}, err: true},
		{in: []string{"ns/a/b"}, err: true},
	} {
		got, err := ParsePlacements(c.in)
		if (err != nil) != c.err {
			t.Errorf("%q: error %v", c.in, err)
			continue
		}
		if err == nil && strings.Join(placementNames(got), ",") != c.want {
			t.Errorf("%q: %v", c.in, got)
		}
	}
}

func TestConditionsAvailableOnlyWhenEveryStepHolds(t *testing.T) {
	ok := Step{Status: metav1.ConditionTrue, Reason: "Fine", Message: "fine"}
	bad := Step{Status: metav1.ConditionFalse, Reason: "GrantNotApplied", Message: "not yet"}
	unknown := Step{Status: metav1.ConditionUnknown, Reason: "NotChecked", Message: "no credentials"}
	for _, c := range []struct {
		name       string
		r          Readiness
		available  metav1.ConditionStatus
		reason     string
		messageHas string
	}{
		{"all hold", Readiness{ok, ok, ok}, metav1.ConditionTrue, "ServerReady", "holds credentials"},
		{"grant missing", Readiness{ok, bad, ok}, metav1.ConditionFalse, "GrantNotApplied", "GrantApplied is False: not yet"},
		{"first failure wins", Readiness{bad, bad, unknown}, metav1.ConditionFalse, "GrantNotApplied", "CredentialsIssued is False"},
		{"unknown is not available", Readiness{ok, ok, unknown}, metav1.ConditionFalse, "NotChecked", "APIReachable is Unknown"},
	} {
		conds := c.r.conditions()
		if len(conds) != 4 {
			t.Fatalf("%s: %d conditions", c.name, len(conds))
		}
		a := meta.FindStatusCondition(conds, ConditionAvailable)
		if a == nil || a.Status != c.available || a.Reason != c.reason || !strings.Contains(a.Message, c.messageHas) {
			t.Errorf("%s: Available = %+v", c.name, a)
		}
	}
}

func TestNotPlacedErrorNamesThePlacements(t *testing.T) {
	a := &Addon{opts: Options{Name: "mcp", Placements: []Placement{{"ns", "p1"}, {"ns", "p2"}}}, selected: map[string][]Placement{"in": nil}}
	if err := a.Allows("in"); err != nil {
		t.Errorf("a selected cluster refused: %v", err)
	}
	err := a.Allows("out")
	if err == nil || !strings.Contains(err.Error(), "cluster out is not selected by the Placement ns/p1 or ns/p2") ||
		!strings.Contains(err.Error(), "ManagedClusterAddOn out/mcp") {
		t.Errorf("refusal: %v", err)
	}
}
