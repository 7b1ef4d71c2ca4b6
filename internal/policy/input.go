package policy

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/kubectl"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/redact"
)

// Tools the policy is asked about (input.tool).
const (
	ToolKubectlWrite = "kubectl_write"
	ToolMustGather   = "must_gather"
)

// Input is what a policy sees (input): who asks, on which cluster, with which tool and command, and the
// objects the change would touch as its preview shows them. Its JSON form is documented in the README.
type Input struct {
	Tool    string  `json:"tool"`
	Caller  Caller  `json:"caller"`
	Cluster Cluster `json:"cluster"`
	// Verb and Subcommand are the kubectl command's ("rollout", "restart"); empty for must_gather.
	Verb       string `json:"verb"`
	Subcommand string `json:"subcommand"`
	// Command is the command's words after "kubectl".
	Command []string `json:"command"`
	// Destructive says the command removes, evicts, stops scheduling or rolls back (as --approval=destructive).
	Destructive bool `json:"destructive"`
	// Namespace is the command's -n/--namespace ("" when it names none).
	Namespace string `json:"namespace"`
	// ReadOnly is the server's --read-only mode.
	ReadOnly bool     `json:"read_only"`
	Objects  []Object `json:"objects"`
}

// Caller is the MCP caller: the authenticated HTTP user, or the local user over stdio (Local, no groups).
type Caller struct {
	User   string   `json:"user"`
	UID    string   `json:"uid"`
	Groups []string `json:"groups"`
	Local  bool     `json:"local"`
}

// Cluster is the target cluster as the hub knows it.
type Cluster struct {
	Name string `json:"name"`
	// Hub is true for the hub itself (named hub, or its local-cluster).
	Hub bool `json:"hub"`
	// Labels are the ManagedCluster's labels; Clusterset its cluster.open-cluster-management.io/clusterset label.
	Labels     map[string]string `json:"labels"`
	Clusterset string            `json:"clusterset"`
	// Claims are the ManagedCluster's cluster claims (status.clusterClaims), name to value.
	Claims map[string]string `json:"claims"`
}

// Object is one object a change would touch.
type Object struct {
	// Kind is the object's kind as the API server answered (Scale for a scale subresource).
	Kind        string `json:"kind"`
	Group       string `json:"group"`
	Resource    string `json:"resource"`
	Subresource string `json:"subresource"`
	Namespace   string `json:"namespace"`
	Name        string `json:"name"`
	// Ref names the object for messages: "deployments.apps shop/frontend (scale)".
	Ref string `json:"ref"`
	// Labels and Annotations are the object's own as it stands (for a subresource, its parent's: a
	// Deployment's for its scale); empty for an object the change creates.
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	// Before is the object before the change (nil: it does not exist), After as the change would leave it
	// (nil: it would be removed). Secret values are elided.
	Before map[string]any `json:"before"`
	After  map[string]any `json:"after"`
	// Parent is the object a subresource belongs to, read for its labels and annotations; not in the input.
	Parent map[string]any `json:"-"`
}

// elided replaces Secret values in the policy's input (and so in any message a policy makes of them).
type elided struct{}

func (elided) Data(_, b64 string) string {
	return fmt.Sprintf("<elided: %d bytes>", redact.DecodedLen(b64))
}
func (elided) StringData(_, s string) string { return fmt.Sprintf("<elided: %d bytes>", len(s)) }

// document is the input as OPA reads it: plain JSON values, with every object's Secret values elided
// (whatever the server's --allow-secret-values says: the messages go to the audit log), and each
// object's labels and annotations taken from what it is.
func (in Input) document() (map[string]any, error) {
	objs := make([]Object, len(in.Objects))
	for i, o := range in.Objects {
		o.Ref = ref(o)
		secrets := o.Resource == "secrets" && o.Group == ""
		var err error
		if o.Before, err = elidedCopy(o.Before, secrets); err != nil {
			return nil, err
		}
		if o.After, err = elidedCopy(o.After, secrets); err != nil {
			return nil, err
		}
		if o.Parent, err = elidedCopy(o.Parent, false); err != nil {
			return nil, err
		}
		if o.Kind == "" {
			o.Kind = kindOf(o.After, o.Before)
		}
		meta := o.Before
		if o.Subresource != "" && o.Parent != nil {
			meta = o.Parent
		}
		o.Labels, o.Annotations = stringMap(meta, "labels"), stringMap(meta, "annotations")
		objs[i] = o
	}
	in.Objects = objs
	if in.Command == nil {
		in.Command = []string{}
	}
	if in.Caller.Groups == nil {
		in.Caller.Groups = []string{}
	}
	if in.Cluster.Labels == nil {
		in.Cluster.Labels = map[string]string{}
	}
	if in.Cluster.Claims == nil {
		in.Cluster.Claims = map[string]string{}
	}
	data, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// elidedCopy is a deep copy of obj with its Secret values (and credentials hidden elsewhere in it)
// elided.
func elidedCopy(obj map[string]any, secret bool) (map[string]any, error) {
	if obj == nil {
		return nil, nil
	}
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var cp map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&cp); err != nil {
		return nil, err
	}
	redact.Doc(cp, elided{}, redact.Options{SecretContext: secret})
	return cp, nil
}

func kindOf(objs ...map[string]any) string {
	for _, o := range objs {
		if k, ok := o["kind"].(string); ok && k != "" {
			return k
		}
	}
	return ""
}

// stringMap is metadata.<field> of obj as strings; empty, never nil.
func stringMap(obj map[string]any, field string) map[string]string {
	out := map[string]string{}
	md, _ := obj["metadata"].(map[string]any)
	m, _ := md[field].(map[string]any)
	for k, v := range m {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}

// ref names an object: resource[.group] namespace/name (subresource).
func ref(o Object) string {
	return kubectl.APIPath{Group: o.Group, Resource: o.Resource, Namespace: o.Namespace, Name: o.Name, Subresource: o.Subresource}.String()
}
