package mustgather

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

// yamlSeeds are files whose YAML takes every turn of the parser: numbers of every size and form,
// YAML 1.1 booleans, timestamps, nulls, anchors, keys that are not strings, binary values, Lists,
// empty and broken files.
var yamlSeeds = []string{
	podTemplate,
	"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: n\n  generation: 3\ndata:\n  a: \"1\"\n  b: 'yes'\n",
	"apiVersion: v1\nkind: Thing\nmetadata:\n  name: t\nspec:\n  big: 123456789012345678901234567890\n  i64: 9223372036854775807\n  neg: -12\n  f: 1.5e3\n  hex: 0x1F\n  oct: 0755\n  o: on\n  y: Yes\n  none: ~\n  empty:\n  when: 2026-11-20T01:00:00Z\n  date: 2026-11-20\n",
	"apiVersion: v1\nkind: Thing\nmetadata:\n  name: t\nspec:\n  1: one\n  true: yes\n",
	"apiVersion: v1\nkind: Thing\nmetadata:\n  name: t\nspec:\n  on: 1\n",
	"apiVersion: v1\nkind: Thing\nmetadata:\n  name: t\nspec:\n  b: !!binary aGVsbG8=\n",
	"apiVersion: v1\nkind: Thing\nmetadata:\n  name: t\nbase: &b\n  x: 1\nuse: *b\nlist:\n- a\n- 2\n- {k: v}\n- [1, 2]\n",
	"apiVersion: v1\nkind: Thing\nmetadata:\n  name: t\nspec:\n  inf: .inf\n  nan: .nan\n",
	"apiVersion: v1\nkind: Thing\nmetadata:\n  name: t\ntext: |\n  line one\n  line <two> & \"three\"\nfolded: >\n  a\n  b\n",
	"apiVersion: v1\nkind: PodList\nitems:\n- metadata:\n    name: a\n    namespace: n\n- kind: Pod\n  apiVersion: v1\n  metadata:\n    name: b\n",
	"apiVersion: v1\nkind: PodList\nitems: []\n",
	"",
	"null\n",
	"- a\n- b\n",
	"just text\n",
	"apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec: [unclosed\n",
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"j\"},\"spec\":{\"n\":1e400}}",
	"apiVersion: v1\nkind: Thing\nmetadata:\n  name: \"\\xff\\u00e9\"\n",
}

// TestParseForIndexAgrees: the one-parse shortcut makes the same objects and the same JSON as the long
// way (YAML to JSON, then JSON), and fails where it fails.
func TestParseForIndexAgrees(t *testing.T) {
	for i, data := range yamlSeeds {
		t.Run(fmt.Sprint(i), func(t *testing.T) { checkParseAgrees(t, []byte(data)) })
	}
}

// FuzzParseForIndex: whatever the file, the shortcut and the long way agree.
func FuzzParseForIndex(f *testing.F) {
	for _, s := range yamlSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(checkParseAgrees)
}

func checkParseAgrees(t *testing.T, data []byte) {
	objs, j, err := parseForIndex("f", data)
	wantObjs, wantJ, wantErr := parseJSONWay("f", data)
	if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
		t.Fatalf("error %v, want %v", err, wantErr)
	}
	if !bytes.Equal(j, wantJ) {
		t.Errorf("JSON\n%s\nwant\n%s", j, wantJ)
	}
	if len(objs) != len(wantObjs) {
		t.Fatalf("%d objects, want %d", len(objs), len(wantObjs))
	}
	for k := range objs {
		// Integers beyond 2^53 are exact in the shortcut's objects (int64), rounded in the long way's
		// (float64): compared as JSON decodes them.
		got, want := normalJSON(t, objs[k].Object), normalJSON(t, wantObjs[k].Object)
		if !bytes.Equal(got, want) {
			t.Errorf("object %d\n%s\nwant\n%s", k, got, want)
		}
	}
}

// normalJSON is v encoded, decoded and encoded again.
func normalJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var back any
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	data, _ = json.Marshal(back)
	return data
}
