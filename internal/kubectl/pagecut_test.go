package kubectl

import (
	"encoding/json"
	"testing"
)

func TestCanCutPages(t *testing.T) {
	cases := []struct {
		line string
		want bool
	}{
		{"get pods -A", true},
		{"get pods -A -o wide", true},
		{"get pods -n a -o name", true},
		{"get configmaps -n a -o yaml", true},
		{"get pods -A -o json", true},
		{"get pods -A --sort-by=.metadata.name", false},
		{"get pods -A -o jsonpath='{.items[-1:].metadata.name}'", false},
		{"get pods -A -o custom-columns=N:.metadata.name", false},
		{"get pods -A -o go-template='{{len .items}}'", false},
		{"describe pods -A", false},
		{"events -A", false},
	}
	for _, c := range cases {
		words, err := Split(c.line)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Check(words, ReadTool, false)
		if err != nil {
			t.Fatalf("%s: %v", c.line, err)
		}
		if got := canCutPages(p); got != c.want {
			t.Errorf("%s: canCutPages = %v, want %v (flags %v)", c.line, got, c.want, p.Flags)
		}
	}
}

func TestLastPageRemovesOnlyTheToken(t *testing.T) {
	cases := []struct{ name, body, want string }{
		{"table", `{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"7","continue":"abc","remainingItemCount":12},"columnDefinitions":[],"rows":[{"cells":["continue"]}]}`,
			`{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"7"},"columnDefinitions":[],"rows":[{"cells":["continue"]}]}`},
		{"list with spaces", `{ "kind": "PodList", "metadata": {"continue": "x\"y"}, "items": [{"metadata":{"name":"p"}}] }`,
			`{ "kind": "PodList", "metadata": {}, "items": [{"metadata":{"name":"p"}}] }`},
	}
	for _, c := range cases {
		got, ok := lastPage([]byte(c.body))
		if !ok || string(got) != c.want {
			t.Errorf("%s: got %s (%v), want %s", c.name, got, ok, c.want)
		}
		if !json.Valid(got) {
			t.Errorf("%s: not JSON: %s", c.name, got)
		}
	}
	for _, bad := range []string{``, `[]`, `{"kind":"Table"}`, `{"metadata":`} {
		if _, ok := lastPage([]byte(bad)); ok {
			t.Errorf("%q: rewritten", bad)
		}
	}
}

// The estimate of a page is never more than kubectl prints for it.
func TestEstimateIsALowerBound(t *testing.T) {
	table := `{"kind":"Table","metadata":{"continue":"t"},"columnDefinitions":[{"name":"Name","priority":0},{"name":"Ready","priority":0},{"name":"IP","priority":1}],` +
		`"rows":[{"cells":["pod-a","1/1","10.0.0.1"]},{"cells":["b",null,"10.0.0.2"]},{"cells":["c",3,true]}]}`
	// NAME    READY   (IP only with -o wide)
	printed := "NAME    READY\npod-a   1/1\nb       <none>\nc       3\n"
	var p listPage
	if err := json.Unmarshal([]byte(table), &p); err != nil {
		t.Fatal(err)
	}
	c := &pageCut{}
	if got := c.estimate(&p); got <= 0 || got > len(printed)-len("NAME    READY\n") {
		t.Errorf("table estimate %d, rows print to %d", got, len(printed)-len("NAME    READY\n"))
	}
	list := `{"kind":"PodList","metadata":{},"items":[{"metadata":{"name":"one"}},{"metadata":{"name":"two"}}]}`
	if err := json.Unmarshal([]byte(list), &p); err != nil {
		t.Fatal(err)
	}
	c = &pageCut{item: pageCutFormats["name"]}
	if got, names := c.estimate(&p), "pod/one\npod/two\n"; got > len(names) || got == 0 {
		t.Errorf("name estimate %d, prints %d", got, len(names))
	}
}
