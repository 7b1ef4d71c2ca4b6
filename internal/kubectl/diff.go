package kubectl

import (
	"fmt"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	"sigs.k8s.io/yaml"
)

// maxDiffObjects bounds how many objects a rendered preview shows in full; the rest are counted.
const maxDiffObjects = 50

// Diff renders the preview: for each object a heading and a compact unified diff of its YAML before and
// after, without the fields that change on every write (managedFields, resourceVersion, generation, the
// last-applied copy). Secret values are elided as everywhere else.
func (p Preview) Diff() string {
	if len(p.Changes) == 0 {
		return "No object would change.\n"
	}
	var b strings.Builder
	for i, c := range p.Changes {
		if i == maxDiffObjects {
			fmt.Fprintf(&b, "... and %d more object(s)\n", len(p.Changes)-i)
			break
		}
		b.WriteString(renderChange(c))
	}
	b.WriteString(p.Cascade)
	out := b.String()
	if p.humanize != nil {
		out = p.humanize(out)
	}
	return out
}

// renderChange is one object's part of the diff.
func renderChange(c Change) string {
	label := describePath(c.Path)
	switch {
	case c.Before == nil && c.After == nil:
		return fmt.Sprintf("? %s: the API server's answer did not show the result\n", label)
	case c.After == nil:
		return fmt.Sprintf("- %s would be removed\n", label)
	}
	before, after := cleanYAML(c.Before), cleanYAML(c.After)
	if before == after {
		return fmt.Sprintf("= %s unchanged\n", label)
	}
	head := "~ " + label + "\n"
	if c.Before == nil {
		head = "+ " + label + " would be created\n"
	}
	text, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: difflib.SplitLines(before), B: difflib.SplitLines(after), FromFile: "before", ToFile: "after", Context: 2,
	})
	if err != nil {
		return head + "  (the difference could not be computed)\n"
	}
	var b strings.Builder
	b.WriteString(head)
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		if strings.HasPrefix(line, "--- ") || strings.HasPrefix(line, "+++ ") {
			continue
		}
		b.WriteString("  " + line + "\n")
	}
	return b.String()
}

// cleanYAML is an object's YAML without write noise; "" for nil.
func cleanYAML(obj map[string]any) string {
	if obj == nil {
		return ""
	}
	cp := make(map[string]any, len(obj))
	for k, v := range obj {
		cp[k] = v
	}
	if md, ok := obj["metadata"].(map[string]any); ok {
		m := make(map[string]any, len(md))
		for k, v := range md {
			switch k {
			case "managedFields", "resourceVersion", "generation":
				continue
			case "annotations":
				if ann, ok := v.(map[string]any); ok {
					a := make(map[string]any, len(ann))
					for ak, av := range ann {
						if ak != "kubectl.kubernetes.io/last-applied-configuration" {
							a[ak] = av
						}
					}
					if len(a) == 0 {
						continue
					}
					v = a
				}
			}
			m[k] = v
		}
		cp["metadata"] = m
	}
	data, err := yaml.Marshal(cp)
	if err != nil {
		return fmt.Sprintf("(not shown: %v)\n", err)
	}
	return string(data)
}

// describePath names an object by its API path: "deployments shop/frontend (scale)".
func describePath(path string) string {
	ri := parseAPIPath(path)
	if !ri.api {
		return path
	}
	return (APIPath{Group: ri.group, Resource: ri.resource, Namespace: ri.namespace, Name: ri.name, Subresource: ri.subresource}).String()
}

// String names an object as previews, guardrails and policies do: resource[.group] [namespace/]name,
// then its subresource in parentheses.
func (a APIPath) String() string {
	kind := a.Resource
	if a.Group != "" {
		kind += "." + a.Group
	}
	name := a.Name
	if a.Namespace != "" {
		name = a.Namespace + "/" + name
	}
	out := kind + " " + name
	if a.Subresource != "" {
		out += " (" + a.Subresource + ")"
	}
	return out
}
