package mustgather

import (
	"encoding/json"
	"fmt"

	yamlv2 "go.yaml.in/yaml/v2"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// parseForIndex is parseBytes, with the JSON of the file when it holds one object. The YAML is parsed
// once, by the parser sigs.k8s.io/yaml uses, and its result made the object's map and, encoded, the
// JSON the index keeps: the same JSON sigs.k8s.io/yaml would make of it, without parsing that JSON
// again. Anything the shortcut does not take as it is (a key that is not a string, a value JSON has no
// type for) goes the long way, whose errors are parseBytes's own.
func parseForIndex(path string, data []byte) ([]*unstructured.Unstructured, []byte, error) {
	var doc any
	if err := yamlv2.Unmarshal(data, &doc); err == nil {
		if m, ok := jsonable(doc).(map[string]any); ok {
			j, err := json.Marshal(m)
			if err == nil {
				return fromMap(path, m, j)
			}
		}
	}
	return parseJSONWay(path, data)
}

// fromMap returns the objects of a parsed file, and its JSON when it holds one object.
func fromMap(path string, m map[string]any, j []byte) ([]*unstructured.Unstructured, []byte, error) {
	objs, err := objectsOf(m)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(objs) != 1 || (&unstructured.Unstructured{Object: m}).IsList() {
		j = nil
	}
	return objs, j, nil
}

// jsonable turns what the YAML parser made into what decoding its JSON would make, but with integers
// as int64 (as the API machinery decodes them); nil when something has no such form.
func jsonable(v any) any {
	switch x := v.(type) {
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, val := range x {
			ks, ok := k.(string)
			if !ok {
				return nil
			}
			c := jsonable(val)
			if c == nil && val != nil {
				return nil
			}
			m[ks] = c
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, val := range x {
			c := jsonable(val)
			if c == nil && val != nil {
				return nil
			}
			s[i] = c
		}
		return s
	case string, bool, float64, int64:
		return x
	case int:
		return int64(x)
	}
	return nil // nil stays nil; any other type takes the long way
}
