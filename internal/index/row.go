package index

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/redact"
)

// Row is one object as the index stores it.
type Row struct {
	Cluster, Group, Version, Kind, Resource, Namespace, Name, UID string
	Labels                                                        []byte // JSON object
	Created                                                       time.Time
	Payload                                                       []byte // JSON, managedFields dropped, Secret values elided
	Summary                                                       Summary
	RV                                                            string
	// Deleted is when the object went (deletionTimestamp, or when the index saw it go).
	Deleted time.Time
}

// Summary is what history compares between two versions of an object: small, so that the store keeps
// it beside the payload and a change is judged without decoding the payload again.
type Summary struct {
	Generation int64             `json:"g,omitempty"`
	Replicas   *int64            `json:"r,omitempty"`
	Images     string            `json:"i,omitempty"`
	Phase      string            `json:"p,omitempty"`
	Ready      *int64            `json:"rr,omitempty"`
	Containers map[string]string `json:"c,omitempty"` // status.containerStatuses[NAME] / status.initContainerStatuses[NAME] -> state
	Conditions map[string]string `json:"k,omitempty"` // type -> "Status (Reason)"
	// CondTimes are the conditions' lastTransitionTime, for the history of objects first seen.
	CondTimes map[string]time.Time `json:"-"`
}

// elidedBytes replaces each Secret value with its byte count, as the kubectl tool shows it.
type elidedBytes struct{}

func (elidedBytes) Data(_, b64 string) string {
	return fmt.Sprintf("<elided: %d bytes>", redact.DecodedLen(b64))
}
func (elidedBytes) StringData(_, s string) string { return fmt.Sprintf("<elided: %d bytes>", len(s)) }

// RowOf turns a decoded object into a row. resource is the plural the object was listed as; group and
// version come from apiVersion when the object says, else from gv. The object is changed in place.
func RowOf(cluster, resource, group, version, kind string, obj map[string]any) (*Row, error) {
	md, _ := obj["metadata"].(map[string]any)
	if md == nil {
		return nil, fmt.Errorf("object without metadata")
	}
	delete(md, "managedFields")
	if av, _ := obj["apiVersion"].(string); av != "" {
		g, v, ok := strings.Cut(av, "/")
		if !ok {
			g, v = "", av
		}
		group, version = g, v
	}
	if k, _ := obj["kind"].(string); k != "" {
		kind = k
	} else {
		obj["kind"] = kind
	}
	redact.Doc(obj, elidedBytes{}, redact.Options{SecretContext: resource == "secrets"})
	r := &Row{Cluster: cluster, Group: group, Version: version, Kind: kind, Resource: resource}
	r.Namespace, _ = md["namespace"].(string)
	r.Name, _ = md["name"].(string)
	r.UID, _ = md["uid"].(string)
	r.RV, _ = md["resourceVersion"].(string)
	if r.UID == "" {
		// Archives made by hand may lack uids: the object's identity is then its name.
		r.UID = "name:" + resource + "/" + r.Namespace + "/" + r.Name
	}
	if ts, _ := md["creationTimestamp"].(string); ts != "" {
		r.Created, _ = time.Parse(time.RFC3339, ts)
	}
	if ts, _ := md["deletionTimestamp"].(string); ts != "" {
		r.Deleted, _ = time.Parse(time.RFC3339, ts)
	}
	labels, _ := md["labels"].(map[string]any)
	if labels == nil {
		labels = map[string]any{}
	}
	var err error
	if r.Labels, err = marshal(labels); err != nil {
		return nil, err
	}
	if r.Payload, err = marshal(obj); err != nil {
		return nil, err
	}
	r.Summary = summarize(obj)
	return r, nil
}

func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

func num(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case float64:
		return int64(n), true
	case int:
		return int64(n), true
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}

// summarize reads the fields history follows.
func summarize(obj map[string]any) Summary {
	var s Summary
	md, _ := obj["metadata"].(map[string]any)
	s.Generation, _ = num(md["generation"])
	spec, _ := obj["spec"].(map[string]any)
	status, _ := obj["status"].(map[string]any)
	if spec != nil {
		if n, ok := num(spec["replicas"]); ok {
			s.Replicas = &n
		}
		podSpec := spec
		if tmpl, _ := spec["template"].(map[string]any); tmpl != nil {
			podSpec, _ = tmpl["spec"].(map[string]any)
		}
		if podSpec != nil {
			var images []string
			for _, key := range []string{"initContainers", "containers"} {
				list, _ := podSpec[key].([]any)
				for _, c := range list {
					cm, _ := c.(map[string]any)
					if img, _ := cm["image"].(string); img != "" {
						images = append(images, fmt.Sprint(cm["name"])+"="+img)
					}
				}
			}
			s.Images = strings.Join(images, ",")
		}
	}
	if status == nil {
		return s
	}
	s.Phase, _ = status["phase"].(string)
	if n, ok := num(status["readyReplicas"]); ok {
		s.Ready = &n
	} else if _, has := status["replicas"]; has {
		zero := int64(0)
		s.Ready = &zero
	}
	for _, key := range []string{"initContainerStatuses", "containerStatuses"} {
		list, _ := status[key].([]any)
		for _, c := range list {
			cm, _ := c.(map[string]any)
			name, _ := cm["name"].(string)
			if name == "" {
				continue
			}
			if s.Containers == nil {
				s.Containers = map[string]string{}
			}
			s.Containers["status."+key+"["+name+"]"] = containerState(cm)
		}
	}
	conds, _ := status["conditions"].([]any)
	for _, c := range conds {
		cm, _ := c.(map[string]any)
		t, _ := cm["type"].(string)
		st, _ := cm["status"].(string)
		if t == "" {
			continue
		}
		if s.Conditions == nil {
			s.Conditions = map[string]string{}
			s.CondTimes = map[string]time.Time{}
		}
		v := st
		if reason, _ := cm["reason"].(string); reason != "" {
			v += " (" + reason + ")"
		}
		s.Conditions[t] = v
		if ts, _ := cm["lastTransitionTime"].(string); ts != "" {
			if tt, err := time.Parse(time.RFC3339, ts); err == nil {
				s.CondTimes[t] = tt
			}
		}
	}
	return s
}

// containerState renders a container status as one word and its reason: running, waiting:
// CrashLoopBackOff, terminated: Error (exit 1).
func containerState(cm map[string]any) string {
	state, _ := cm["state"].(map[string]any)
	for _, k := range []string{"waiting", "terminated", "running"} {
		v, ok := state[k].(map[string]any)
		if !ok {
			continue
		}
		out := k
		if reason, _ := v["reason"].(string); reason != "" {
			out += ": " + reason
		}
		if code, ok := num(v["exitCode"]); ok {
			out += " (exit " + strconv.FormatInt(code, 10) + ")"
		}
		if k == "running" {
			if ready, _ := cm["ready"].(bool); ready {
				out += ", ready"
			}
		}
		return out
	}
	return "unknown"
}

// Change is one history row.
type Change struct {
	At              time.Time
	Change          string // created, deleted, updated, status, condition
	Field, Old, New string
}

// Changes compare.
const (
	ChangeCreated   = "created"
	ChangeDeleted   = "deleted"
	ChangeUpdated   = "updated"
	ChangeStatus    = "status"
	ChangeCondition = "condition"
)

// firstSight is the history of an object the index sees for the first time: its creation, and the
// last transition of each condition, at the times the object records (when they are after since).
func firstSight(r *Row, now, since time.Time) []Change {
	var out []Change
	created := r.Created
	if created.IsZero() {
		created = now
	}
	if !created.Before(since) {
		out = append(out, Change{At: created, Change: ChangeCreated})
	}
	for _, t := range sortedKeys(r.Summary.Conditions) {
		at, ok := r.Summary.CondTimes[t]
		if !ok || at.Before(since) {
			continue
		}
		out = append(out, Change{At: at, Change: ChangeCondition, Field: t, New: r.Summary.Conditions[t]})
	}
	return out
}

// diff is the history between two versions of an object, at now (a condition at its transition time
// when that is later than the previous version and not after now).
func diff(old, cur Summary, now time.Time) []Change {
	var out []Change
	add := func(kind, field, o, n string) {
		if o != n {
			out = append(out, Change{At: now, Change: kind, Field: field, Old: o, New: n})
		}
	}
	if old.Generation != 0 || cur.Generation != 0 {
		add(ChangeUpdated, "metadata.generation", itoa(old.Generation), itoa(cur.Generation))
	}
	add(ChangeUpdated, "spec.replicas", ptoa(old.Replicas), ptoa(cur.Replicas))
	add(ChangeUpdated, "image", old.Images, cur.Images)
	add(ChangeStatus, "status.phase", old.Phase, cur.Phase)
	add(ChangeStatus, "status.readyReplicas", ptoa(old.Ready), ptoa(cur.Ready))
	for _, k := range unionKeys(old.Containers, cur.Containers) {
		add(ChangeStatus, k, old.Containers[k], cur.Containers[k])
	}
	for _, k := range unionKeys(old.Conditions, cur.Conditions) {
		if old.Conditions[k] == cur.Conditions[k] {
			continue
		}
		// The condition's own transition time, when its status (not only its reason) changed just now.
		at := now
		oldStatus, _, _ := strings.Cut(old.Conditions[k], " (")
		newStatus, _, _ := strings.Cut(cur.Conditions[k], " (")
		if t, ok := cur.CondTimes[k]; ok && oldStatus != newStatus && t.Before(now) && t.After(now.Add(-time.Minute)) {
			at = t
		}
		out = append(out, Change{At: at, Change: ChangeCondition, Field: k, Old: old.Conditions[k], New: cur.Conditions[k]})
	}
	return out
}

func itoa(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

func ptoa(p *int64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatInt(*p, 10)
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func unionKeys(a, b map[string]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range []map[string]string{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

// historyOf says whether a kind has a history (Events are history themselves).
func historyOf(kind string) bool { return kind != "Event" }
