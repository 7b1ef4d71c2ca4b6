package policy

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

// Each built-in policy, as OPA unit tests are written: an input and the denials it must give.

func scaleInput(labels map[string]string) Input {
	return Input{
		Tool: ToolKubectlWrite, Caller: Caller{User: "alice", Groups: []string{"dev"}},
		Cluster: Cluster{Name: "spoke1", Labels: labels},
		Verb:    "scale", Command: []string{"scale", "deployment/frontend", "-n", "shop", "--replicas=3"}, Namespace: "shop",
		Objects: []Object{{Group: "apps", Resource: "deployments", Subresource: "scale", Namespace: "shop", Name: "frontend",
			Before: map[string]any{"kind": "Scale", "spec": map[string]any{"replicas": 2}},
			After:  map[string]any{"kind": "Scale", "spec": map[string]any{"replicas": 3}},
			Parent: map[string]any{"kind": "Deployment", "metadata": map[string]any{"name": "frontend"}}}},
	}
}

func withInput(in Input, edit func(*Input)) Input {
	edit(&in)
	return in
}

func deleteInput(groups ...string) Input {
	return Input{
		Tool: ToolKubectlWrite, Caller: Caller{User: "bob", Groups: groups},
		Cluster: Cluster{Name: "prod-eu", Labels: map[string]string{"environment": "production"}},
		Verb:    "delete", Command: []string{"delete", "pod", "web-1", "-n", "shop"}, Destructive: true, Namespace: "shop",
		Objects: []Object{{Resource: "pods", Namespace: "shop", Name: "web-1", Before: map[string]any{"kind": "Pod"}}},
	}
}

func TestBuiltinPolicies(t *testing.T) {
	freeze := map[string]string{"multicluster-mcp-server.io/change-freeze": "true"}
	noGather := map[string]string{"multicluster-mcp-server.io/no-must-gather": "true"}
	protected := func(note string) func(*Input) {
		return func(in *Input) {
			in.Objects[0].Parent["metadata"] = map[string]any{"annotations": map[string]any{"multicluster-mcp-server.io/protected": note}}
		}
	}
	cases := []struct {
		name string
		in   Input
		opts Options
		want []Deny
	}{
		{name: "no label, no denial", in: scaleInput(nil)},
		{name: "change freeze", in: scaleInput(freeze), want: []Deny{{Rule: "change-freeze",
			Msg: "cluster spoke1 is under a change freeze (its ManagedCluster is labelled multicluster-mcp-server.io/change-freeze=true): no change may be made to it through this server until the label is removed on the hub"}}},
		{name: "change freeze label false", in: scaleInput(map[string]string{"multicluster-mcp-server.io/change-freeze": "false"})},
		{name: "change freeze disabled", in: scaleInput(freeze), opts: Options{Disable: []string{"change-freeze"}}},
		{name: "change freeze does not stop a must-gather", in: Input{Tool: ToolMustGather, Cluster: Cluster{Name: "spoke1", Labels: freeze}}},
		{name: "protected object, through its scale", in: withInput(scaleInput(nil), protected("payments team: by hand only")), want: []Deny{{Rule: "protected-object",
			Msg: `deployments.apps shop/frontend (scale) on cluster spoke1 is protected by its owner (annotation multicluster-mcp-server.io/protected="payments team: by hand only"): this server changes no part of it; ask its owner, who can remove the annotation`}}},
		{name: "protected=false protects nothing", in: withInput(scaleInput(nil), protected("false"))},
		{name: "protected object created is not refused", in: withInput(scaleInput(nil), func(in *Input) {
			in.Objects[0] = Object{Resource: "configmaps", Namespace: "shop", Name: "x",
				After: map[string]any{"kind": "ConfigMap", "metadata": map[string]any{"annotations": map[string]any{"multicluster-mcp-server.io/protected": "true"}}}}
		})},
		{name: "freeze and protected together", in: withInput(scaleInput(freeze), protected("true")), want: []Deny{
			{Rule: "change-freeze", Msg: "cluster spoke1 is under a change freeze (its ManagedCluster is labelled multicluster-mcp-server.io/change-freeze=true): no change may be made to it through this server until the label is removed on the hub"},
			{Rule: "protected-object", Msg: `deployments.apps shop/frontend (scale) on cluster spoke1 is protected by its owner (annotation multicluster-mcp-server.io/protected="true"): this server changes no part of it; ask its owner, who can remove the annotation`}}},
		{name: "destructive on production, no group configured", in: deleteInput("dev"), want: []Deny{{Rule: "production-destructive",
			Msg: "`delete pod web-1 -n shop` is destructive and cluster prod-eu is labelled environment=production: no one may run destructive commands there through this server until --policy-production-groups names the groups who may"}}},
		{name: "destructive on production, caller not in the group", in: deleteInput("dev"), opts: Options{ProductionGroups: []string{"sre"}}, want: []Deny{{Rule: "production-destructive",
			Msg: "`delete pod web-1 -n shop` is destructive and cluster prod-eu is labelled environment=production: only members of the groups [\"sre\"] may run destructive commands there (--policy-production-groups), and bob is not one"}}},
		{name: "destructive on production, caller in the group", in: deleteInput("dev", "sre"), opts: Options{ProductionGroups: []string{"sre"}}},
		{name: "destructive on production over stdio", in: withInput(deleteInput(), func(in *Input) { in.Caller = Caller{Local: true} }), opts: Options{ProductionGroups: []string{"sre"}},
			want: []Deny{{Rule: "production-destructive",
				Msg: "`delete pod web-1 -n shop` is destructive and cluster prod-eu is labelled environment=production: only members of the groups [\"sre\"] may run destructive commands there (--policy-production-groups), and the local (stdio) user is not one"}}},
		{name: "not destructive on production", in: withInput(deleteInput(), func(in *Input) { in.Destructive = false })},
		{name: "destructive on staging", in: withInput(deleteInput(), func(in *Input) { in.Cluster.Labels["environment"] = "staging" })},
		{name: "production rule disabled", in: deleteInput(), opts: Options{Disable: []string{"production-destructive"}}},
		{name: "must-gather restricted", in: Input{Tool: ToolMustGather, Cluster: Cluster{Name: "spoke2", Labels: noGather}}, want: []Deny{{Rule: "must-gather-restricted",
			Msg: "cluster spoke2 is labelled multicluster-mcp-server.io/no-must-gather=true: its objects and logs are not collected by must_gather"}}},
		{name: "must-gather label does not stop changes", in: scaleInput(noGather)},
		{name: "must-gather of another cluster", in: Input{Tool: ToolMustGather, Cluster: Cluster{Name: "spoke1"}}},
		{name: "every built-in disabled", in: withInput(deleteInput(), func(in *Input) { in.Cluster.Labels = freeze }), opts: Options{Disable: Builtins()}},
	}
	engines := map[string]*Engine{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key := strings.Join(tc.opts.Disable, ",") + ";" + strings.Join(tc.opts.ProductionGroups, ",")
			e := engines[key]
			if e == nil {
				var err error
				if e, err = New(context.Background(), tc.opts); err != nil {
					t.Fatal(err)
				}
				engines[key] = e
			}
			got, err := e.Evaluate(context.Background(), tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 && len(tc.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("denials:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestBuiltinNames(t *testing.T) {
	want := []string{"change-freeze", "must-gather-restricted", "production-destructive", "protected-object"}
	if got := Builtins(); !reflect.DeepEqual(got, want) {
		t.Errorf("Builtins() = %v, want %v", got, want)
	}
	if err := CheckDisable([]string{"change-freeze"}); err != nil {
		t.Error(err)
	}
	if err := CheckDisable([]string{"change-freez"}); err == nil {
		t.Error("an unknown policy name was accepted")
	}
}
