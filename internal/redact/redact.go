// Package redact removes credentials from Kubernetes objects wherever they hide: Secret data and
// stringData, Secrets embedded in other objects (ManifestWork and ManifestWorkReplicaSet workloads,
// policy object templates, any nested object of kind Secret), annotations known to carry tokens, and the
// last-applied-configuration annotation that copies all of these.
//
// It works on decoded JSON or YAML (map[string]any / []any trees) and changes them in place. What a
// value becomes is the caller's choice (Values): the live kubectl filter keeps the byte length so that
// describe stays true, the must-gather collector writes "N bytes long" as `oc adm inspect` does.
package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
)

// LastApplied is the annotation kubectl apply uses to store the whole object it applied.
const LastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// Values decides what replaces one Secret value.
type Values interface {
	// Data replaces a base64 value of a Secret's data map under key.
	Data(key, b64 string) string
	// StringData replaces a plain value of a Secret's stringData map under key.
	StringData(key, s string) string
}

// tokenAnnotation reports annotations known to carry a credential in clear: OpenShift writes the token
// of a ServiceAccount's token Secret into its dockercfg Secret's annotations.
func tokenAnnotation(key string) bool {
	switch key {
	case "openshift.io/token-secret.value":
		return true
	}
	return false
}

// rawTemplateKey reports string fields that hold whole manifests as YAML text (the policy framework's
// object-templates-raw), which a Secret can hide in.
func rawTemplateKey(key string) bool { return key == "object-templates-raw" }

// ElidedTemplate replaces a raw template that mentions a Secret.
const ElidedTemplate = "<elided: this template holds a Secret>"

// ElidedAnnotation replaces an annotation value that carries a credential.
const ElidedAnnotation = "<elided: it holds a credential>"

// ElidedValue replaces a Secret's data or stringData that is not a map of values: no valid Secret has
// one, but whatever it holds may still be a credential.
const ElidedValue = "<elided: it holds a Secret's values>"

// Options tune one walk.
type Options struct {
	// SecretContext says the document is the answer to a request about Secrets: objects with metadata and
	// a data or stringData map are Secrets even without a kind (list items and table rows carry none).
	SecretContext bool
	// Keep names data keys kept as they are (public certificates, for must-gather parity with oc).
	Keep func(key string) bool
}

// Doc elides every credential in a decoded document, in place, and reports whether it changed anything.
func Doc(doc any, vals Values, o Options) bool {
	w := walker{vals: vals, opts: o}
	w.walk(doc, 0, o.SecretContext)
	return w.changed
}

// maxDepth bounds recursion on hostile documents; deeper parts are dropped rather than kept unread.
const maxDepth = 64

type walker struct {
	vals    Values
	opts    Options
	changed bool
}

// walk elides v and everything below it; inSecrets says v is part of an answer about Secrets (the
// document of a Secret context, or the items of a SecretList), where kind-less objects with data are
// Secrets.
func (w *walker) walk(v any, depth int, inSecrets bool) {
	switch x := v.(type) {
	case map[string]any:
		if depth > maxDepth {
			for k := range x {
				delete(x, k)
			}
			w.changed = true
			return
		}
		w.object(x, inSecrets)
		kind, _ := x["kind"].(string)
		for k, child := range x {
			if s, ok := child.(string); ok && rawTemplateKey(k) && mentionsSecret(s) {
				x[k] = ElidedTemplate
				w.changed = true
				continue
			}
			// The items of a SecretList carry no kind of their own.
			w.walk(child, depth+1, inSecrets || (kind == "SecretList" && k == "items"))
		}
	case []any:
		if depth > maxDepth {
			for i := range x {
				x[i] = nil
			}
			w.changed = true
			return
		}
		for _, child := range x {
			w.walk(child, depth+1, inSecrets)
		}
	}
}

// object elides one map if it is (or describes) an object with credentials.
func (w *walker) object(x map[string]any, inSecrets bool) {
	md, hasMeta := x["metadata"].(map[string]any)
	kind, _ := x["kind"].(string)
	isSecret := kind == "Secret" || (hasMeta && inSecrets && kind == "" && (isMap(x["data"]) || isMap(x["stringData"])))
	if isSecret {
		for _, key := range []string{"data", "stringData"} {
			v, present := x[key]
			if !present || v == nil {
				continue
			}
			m, ok := v.(map[string]any)
			if !ok {
				x[key] = ElidedValue
				w.changed = true
				continue
			}
			for k, val := range m {
				if w.opts.Keep != nil && w.opts.Keep(k) {
					continue
				}
				s, _ := val.(string)
				if key == "data" {
					m[k] = w.vals.Data(k, s)
				} else {
					m[k] = w.vals.StringData(k, s)
				}
				w.changed = true
			}
		}
	}
	if !hasMeta {
		return
	}
	ann, _ := md["annotations"].(map[string]any)
	for k, v := range ann {
		switch {
		case tokenAnnotation(k):
			ann[k] = ElidedAnnotation
			w.changed = true
		case k == LastApplied:
			s, _ := v.(string)
			if repl, changed := w.lastApplied(s, isSecret); changed {
				ann[k] = repl
				w.changed = true
			}
		}
	}
}

// lastApplied elides the object the annotation copies. An annotation that cannot be read is dropped
// when it belongs to a Secret or mentions one: unread is never shown.
func (w *walker) lastApplied(s string, ofSecret bool) (string, bool) {
	if ofSecret {
		return "<elided: it holds the Secret's data>", true
	}
	var inner any
	if err := json.Unmarshal([]byte(s), &inner); err != nil {
		if ofSecret || mentionsSecret(s) {
			return "<elided: it holds the Secret's data>", true
		}
		return s, false
	}
	sub := walker{vals: w.vals, opts: Options{SecretContext: ofSecret, Keep: w.opts.Keep}}
	sub.walk(inner, 1, ofSecret)
	if !sub.changed {
		return s, false
	}
	if ofSecret {
		return "<elided: it holds the Secret's data>", true
	}
	var out strings.Builder
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false) // keep "<elided ...>" readable
	if err := enc.Encode(inner); err != nil {
		return "<elided: it holds a Secret>", true
	}
	return strings.TrimSuffix(out.String(), "\n"), true
}

// mentionsSecret is a conservative test for text that may hold a Secret manifest or a token
// annotation (what MayHold looks for).
func mentionsSecret(s string) bool {
	return strings.Contains(s, "Secret") || strings.Contains(s, "token-secret.value")
}

func isMap(v any) bool { _, ok := v.(map[string]any); return ok }

// MayHold reports whether a raw JSON or YAML body outside a Secret context may hold a credential this
// package elides; bodies it rejects need not be decoded. (A kind: Secret, a raw template mentioning one
// and a last-applied copy of one all spell "Secret"; token annotations spell their own key.)
func MayHold(body []byte) bool {
	return bytes.Contains(body, []byte("Secret")) || bytes.Contains(body, []byte("token-secret.value"))
}

// DecodedLen is the byte length of a base64 value, or of the text when it is not base64.
func DecodedLen(b64 string) int {
	if raw, err := base64.StdEncoding.DecodeString(b64); err == nil {
		return len(raw)
	}
	return len(b64)
}
