package mustgather

import (
	"bytes"
	"os"
	"strings"

	"sigs.k8s.io/yaml"
)

// meta is what the index keeps of an object without parsing it whole.
type meta struct {
	apiVersion, kind, namespace, name string
	labels                            map[string]string
	index                             int
}

// fileIndex is what one object file holds: its objects' metadata, and for a List file the List's own
// apiVersion and kind (which say the type even when the List holds no item).
type fileIndex struct {
	metas              []meta
	listAPIVersion     string
	listKind           string
	isList, unreadable bool
	why                string // why the file is unreadable
}

// indexFile returns the metadata of the objects in one file. Single objects in the canonical YAML that
// kubectl, oc and this server write are scanned line by line; anything else (JSON, List files, unusual
// formatting) is parsed in full. A file that does not parse is reported unreadable, not as an error:
// one bad file is no reason to refuse the rest of a cluster.
func indexFile(path string) (fileIndex, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return fileIndex{}, err
	}
	if m, ok := scanMeta(data); ok {
		return fileIndex{metas: []meta{m}}, nil
	}
	objs, err := parseObjects(data)
	if err != nil {
		return fileIndex{unreadable: true, why: err.Error()}, nil
	}
	fi := fileIndex{}
	if len(objs) == 0 {
		// An empty List ("items: []" or "items: null") still names its type.
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Items      any    `json:"items"`
		}
		if yaml.Unmarshal(data, &head) == nil && (strings.HasSuffix(head.Kind, "List") || isListDocument(data)) {
			fi.isList, fi.listAPIVersion, fi.listKind = true, head.APIVersion, head.Kind
		}
		return fi, nil
	}
	out := make([]meta, 0, len(objs))
	single := len(objs) == 1 && !isListDocument(data)
	for i, o := range objs {
		idx := i
		if single {
			idx = -1
		}
		out = append(out, meta{apiVersion: o.GetAPIVersion(), kind: o.GetKind(), namespace: o.GetNamespace(), name: o.GetName(), labels: o.GetLabels(), index: idx})
	}
	fi.metas = out
	return fi, nil
}

func isListDocument(data []byte) bool {
	return bytes.Contains(data, []byte("\nitems:")) || bytes.HasPrefix(data, []byte("items:"))
}

// scanMeta reads apiVersion, kind and metadata (name, namespace, labels) from block-style YAML with
// two-space indentation. It gives up (false) on anything it is not sure of.
func scanMeta(data []byte) (meta, bool) {
	m := meta{index: -1}
	inMeta, inLabels := false, false
	for len(data) > 0 {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		indent := 0
		for indent < len(line) && line[indent] == ' ' {
			indent++
		}
		text := string(line[indent:])
		switch {
		case indent == 0:
			inMeta, inLabels = false, false
			key, val, ok := splitKV(text)
			if !ok {
				return m, false
			}
			switch key {
			case "apiVersion":
				m.apiVersion = val
			case "kind":
				m.kind = val
			case "metadata":
				if val != "" {
					return m, false // flow style
				}
				inMeta = true
			case "items":
				return m, false // a List
			}
		case inMeta && indent == 2:
			inLabels = false
			key, val, ok := splitKV(text)
			if !ok {
				continue
			}
			switch key {
			case "name":
				m.name = val
			case "namespace":
				m.namespace = val
			case "labels":
				if val != "" {
					return m, false
				}
				inLabels = true
			}
		case inLabels && indent == 4:
			key, val, ok := splitKV(text)
			if !ok || strings.HasPrefix(val, "|") || strings.HasPrefix(val, ">") {
				return m, false
			}
			if m.labels == nil {
				m.labels = map[string]string{}
			}
			m.labels[key] = val
		case inLabels && indent > 4:
			return m, false // a multi-line label value
		}
	}
	return m, m.apiVersion != "" && m.kind != "" && m.name != ""
}

// splitKV splits "key: value", unquoting either side when quoted.
func splitKV(text string) (string, string, bool) {
	key, val, ok := strings.Cut(text, ":")
	if !ok || key == "" || strings.HasPrefix(key, "- ") {
		return "", "", false
	}
	val = strings.TrimSpace(val)
	return unquote(strings.TrimSpace(key)), unquote(val), true
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') {
		var out string
		if err := yaml.Unmarshal([]byte(s), &out); err == nil {
			return out
		}
	}
	return s
}
