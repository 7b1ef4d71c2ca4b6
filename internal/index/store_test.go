package index

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// pod builds a Pod as the API server returns it.
func pod(ns, name, uid, rv, phase string, init string) map[string]any {
	status := map[string]any{"phase": phase, "conditions": []any{
		map[string]any{"type": "Ready", "status": "False", "reason": "ContainersNotReady", "lastTransitionTime": "2026-12-01T10:00:00Z"},
	}}
	if init != "" {
		status["initContainerStatuses"] = []any{map[string]any{"name": "migrate", "ready": false,
			"state":        map[string]any{"waiting": map[string]any{"reason": init}},
			"lastState":    map[string]any{"terminated": map[string]any{"reason": "Error", "exitCode": 1}},
			"restartCount": 4,
		}}
	}
	return map[string]any{"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": name, "namespace": ns, "uid": uid, "resourceVersion": rv,
			"creationTimestamp": "2026-12-01T09:00:00Z", "labels": map[string]any{"app": name},
			"managedFields": []any{map[string]any{"manager": "kubectl"}}},
		"spec":   map[string]any{"containers": []any{map[string]any{"name": "app", "image": "quay.io/x/" + name + ":1"}}},
		"status": status,
	}
}

func openTest(t *testing.T, now time.Time) *Store {
	t.Helper()
	s, err := Open(context.Background(), Options{Dir: t.TempDir(), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func mustRow(t *testing.T, cluster string, obj map[string]any) *Row {
	t.Helper()
	r, err := RowOf(cluster, "pods", "", "v1", "Pod", obj)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestStoreQueryJSONPathAndScope(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC)
	s := openTest(t, now)
	ctx := context.Background()
	ops := []Op{
		{Row: mustRow(t, "spoke1", pod("shop", "web", "u1", "1", "Running", "")), Epoch: 1},
		{Row: mustRow(t, "spoke1", pod("shop", "db", "u2", "1", "Pending", "CrashLoopBackOff")), Epoch: 1},
		{Row: mustRow(t, "spoke2", pod("shop", "db", "u3", "1", "Pending", "CrashLoopBackOff")), Epoch: 1},
	}
	if err := s.Apply(ctx, ops); err != nil {
		t.Fatal(err)
	}
	q := `select cluster, namespace, name, payload->>'$.status.phase' as phase from k8s_resource
		where kind = 'Pod' and exists (select 1 from json_each(payload->'$.status.initContainerStatuses') s
		where s.value->>'$.state.waiting.reason' is not null) order by cluster`
	res, err := s.Query(ctx, q, Scope{All: true}, 200, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(res.Rows); got != "[[spoke1 shop db Pending] [spoke2 shop db Pending]]" {
		t.Errorf("rows = %s", got)
	}
	// A caller who may read spoke1 only sees its rows, however the statement names the data.
	only := Scope{Clusters: []string{"spoke1"}}
	res, err = s.Query(ctx, q, only, 200, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(res.Rows); got != "[[spoke1 shop db Pending]]" {
		t.Errorf("restricted rows = %s", got)
	}
	for _, escape := range []string{
		"select count(*) from mcmcp_resource",
		"select count(*) from main.k8s_resource",
		"select count(*) from 'mcmcp_resource'",
		`select count(*) from "MCMCP_RESOURCE"`,
		"select sql from sqlite_schema",
		"select count(*) from k8s_resource; select count(*) from mcmcp_resource",
		"with k8s_resource as (select * from mcmcp_resource) select count(*) from k8s_resource",
	} {
		if res, err := s.Query(ctx, escape, only, 200, 5*time.Second); err == nil {
			t.Errorf("%q answered %v", escape, res.Rows)
		}
	}
	// A scope beyond the IN list's bound is one parameter, with the same rows.
	wide := Scope{Clusters: []string{"spoke1"}}
	for i := 0; i < maxInList; i++ {
		wide.Clusters = append(wide.Clusters, fmt.Sprintf("other-%d", i))
	}
	res, err = s.Query(ctx, "select distinct cluster from k8s_resource", wide, 200, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(res.Rows); got != "[[spoke1]]" {
		t.Errorf("wide scope rows = %s", got)
	}
	// Names the caller's WITH defines cannot change what the views select.
	for _, escape := range []string{
		"with json_each(value) as (select 'spoke2') select distinct cluster from k8s_resource",
		"with instr(x) as (select 1) select distinct cluster from k8s_resource",
		"with recursive json_each(value) as (select 'spoke2') select distinct cluster from k8s_resource",
	} {
		res, err := s.Query(ctx, escape, only, 200, 5*time.Second)
		if err != nil {
			t.Fatalf("%q: %v", escape, err)
		}
		if got := fmt.Sprint(res.Rows); got != "[[spoke1]]" {
			t.Errorf("%q answered %s", escape, got)
		}
	}
	for _, view := range []string{"k8s_resource", "k8s_history", "k8s_cluster"} {
		res, err := s.Query(ctx, "select distinct cluster from "+view, only, 200, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res.Rows {
			if r[0] != "spoke1" {
				t.Errorf("%s shows cluster %s to a caller of spoke1", view, r[0])
			}
		}
	}
	// Labels and what -> returns print as JSON text.
	res, err = s.Query(ctx, "select labels, payload->'$.spec.containers' from k8s_resource where uid = 'u1'", Scope{All: true}, 1, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(res.Rows); got != `[[{"app":"web"} [{"image":"quay.io/x/web:1","name":"app"}]]]` {
		t.Errorf("json columns print as %s", got)
	}
	// Payloads without managedFields.
	res, _ = s.Query(ctx, "select payload from k8s_resource where uid = 'u1'", Scope{All: true}, 1, time.Second)
	if !strings.HasPrefix(res.Rows[0][0], `{"apiVersion":"v1"`) || strings.Contains(res.Rows[0][0], "managedFields") {
		t.Errorf("payload keeps managedFields: %s", res.Rows[0][0])
	}
}

func TestStoreReadOnlyConnection(t *testing.T) {
	s := openTest(t, time.Now())
	// Even past the checks, the query connection cannot write.
	_, err := s.r.Exec("DELETE FROM mcmcp_cluster")
	if err == nil {
		t.Fatal("the read-only connection wrote")
	}
	c := &Checked{Text: "select 1"}
	if _, err := s.run(context.Background(), c, Scope{All: true}, 10, time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestStoreRowBoundAndTimeout(t *testing.T) {
	s := openTest(t, time.Now())
	ctx := context.Background()
	res, err := s.Query(ctx, "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM n WHERE x < 250) SELECT x FROM n", Scope{All: true}, 200, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 200 || res.More != 50 {
		t.Errorf("rows %d, more %d", len(res.Rows), res.More)
	}
	_, err = s.Query(ctx, "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM n) SELECT count(*) FROM n", Scope{All: true}, 200, 200*time.Millisecond)
	if !errors.Is(err, ErrTimeout) {
		t.Errorf("endless query: %v", err)
	}
}

func TestHistoryDerivation(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC)
	clock := now
	s, err := Open(context.Background(), Options{Dir: t.TempDir(), Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	p := pod("shop", "web", "u1", "1", "Pending", "")
	if err := s.Apply(ctx, []Op{{Row: mustRow(t, "spoke1", p), Epoch: 1}}); err != nil {
		t.Fatal(err)
	}
	// The same version again changes nothing.
	if err := s.Apply(ctx, []Op{{Row: mustRow(t, "spoke1", pod("shop", "web", "u1", "1", "Pending", "")), Epoch: 2}}); err != nil {
		t.Fatal(err)
	}
	clock = now.Add(time.Minute)
	p = pod("shop", "web", "u1", "2", "Running", "")
	p["status"].(map[string]any)["conditions"] = []any{map[string]any{"type": "Ready", "status": "True", "lastTransitionTime": "2026-12-01T10:30:50Z"}}
	p["spec"].(map[string]any)["containers"] = []any{map[string]any{"name": "app", "image": "quay.io/x/web:2"}}
	if err := s.Apply(ctx, []Op{{Row: mustRow(t, "spoke1", p), Epoch: 2}}); err != nil {
		t.Fatal(err)
	}
	clock = now.Add(2 * time.Minute)
	if err := s.Apply(ctx, []Op{{Sweep: true, Cluster: "spoke1", Resource: "pods", Epoch: 3}}); err != nil {
		t.Fatal(err)
	}
	res, err := s.Query(ctx, "select at, change, coalesce(field, ''), coalesce(old, ''), coalesce(new, '') from k8s_history order by at, change", Scope{All: true}, 100, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res.Rows {
		got = append(got, strings.Join(r, " | "))
	}
	want := []string{
		"2026-12-01 09:00:00.000 | created |  |  | ",
		"2026-12-01 10:00:00.000 | condition | Ready |  | False (ContainersNotReady)",
		"2026-12-01 10:30:50.000 | condition | Ready | False (ContainersNotReady) | True",
		"2026-12-01 10:31:00.000 | status | status.phase | Pending | Running",
		"2026-12-01 10:31:00.000 | updated | image | app=quay.io/x/web:1 | app=quay.io/x/web:2",
		"2026-12-01 10:32:00.000 | deleted |  |  | ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("history:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestRowOfElidesSecrets(t *testing.T) {
	obj := map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "s", "namespace": "x", "uid": "u"},
		"data": map[string]any{"password": "aHVudGVyMg=="}, "stringData": map[string]any{"token": "abc"}}
	r, err := RowOf("spoke1", "secrets", "", "v1", "Secret", obj)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	_ = json.Unmarshal(r.Payload, &back)
	if strings.Contains(string(r.Payload), "aHVudGVyMg") || strings.Contains(string(r.Payload), "abc") {
		t.Errorf("payload holds a Secret value: %s", r.Payload)
	}
	if back["data"].(map[string]any)["password"] != "<elided: 7 bytes>" {
		t.Errorf("payload: %s", r.Payload)
	}
}
