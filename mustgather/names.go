package mustgather

import (
	"fmt"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/api/validate/content"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Every part of an archive path that comes from a cluster (cluster, namespace, group, resource, object,
// pod and container names) is checked here before it names anything on disk: a compromised cluster
// could otherwise answer with names such as "../../x" or "/etc/x" and make the collector write outside
// its folder. The rules are Kubernetes' own, so that no object a real API server holds is refused,
// plus the ones a file name needs (one path element, no control characters, not too long).

// maxNameBytes keeps <name>.yaml within the 255 bytes a file name may take on common file systems.
const maxNameBytes = 255 - len(".yaml")

// nameError says why a name cannot be part of an archive path.
type nameError struct {
	what   string // "name", "namespace", "group name", ...
	reason string
}

func (e *nameError) Error() string { return "the " + e.what + " " + e.reason }

// checkSegment refuses what can never be one path element, whatever the kind of name.
func checkSegment(what, s string) error {
	fail := func(reason string) error { return &nameError{what: what, reason: reason} }
	switch {
	case s == "":
		return fail("is empty")
	case s == "." || s == "..":
		return fail(fmt.Sprintf("may not be '%s'", s))
	case strings.ContainsRune(s, '/'):
		return fail("may not contain '/'")
	case strings.ContainsRune(s, '\\'):
		return fail("may not contain a backslash")
	case strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fail("may not contain control characters")
	case len(s) > maxNameBytes:
		return fail(fmt.Sprintf("is longer than a file name may be (%d bytes)", maxNameBytes))
	}
	return nil
}

// checkLabel checks a name Kubernetes requires to be a DNS-1123 label: namespaces, container names,
// resource (plural) names.
func checkLabel(what, s string) error {
	if err := checkSegment(what, s); err != nil {
		return err
	}
	if errs := validation.IsDNS1123Label(s); len(errs) > 0 {
		return &nameError{what: what, reason: "is not a lowercase RFC 1123 label (lowercase letters, digits and '-', at most 63 characters)"}
	}
	return nil
}

// checkSubdomain checks a name Kubernetes requires to be a DNS-1123 subdomain: API groups, pod and
// cluster names.
func checkSubdomain(what, s string) error {
	if err := checkSegment(what, s); err != nil {
		return err
	}
	if errs := validation.IsDNS1123Subdomain(s); len(errs) > 0 {
		return &nameError{what: what, reason: "is not a lowercase RFC 1123 subdomain (lowercase letters, digits, '-' and '.', at most 253 characters)"}
	}
	return nil
}

// checkObjectName checks an object name: most kinds require a DNS-1123 subdomain, some (RBAC roles and
// bindings, for one) accept any name that is safe as a URL path segment, such as
// "system:controller:bootstrap-signer".
func checkObjectName(s string) error {
	if err := checkSegment("name", s); err != nil {
		return err
	}
	if len(validation.IsDNS1123Subdomain(s)) == 0 {
		return nil
	}
	if errs := content.IsPathSegmentName(s); len(errs) > 0 {
		return &nameError{what: "name", reason: strings.Join(errs, ", ")}
	}
	return nil
}

// checkNamespace checks a namespace name.
func checkNamespace(s string) error { return checkLabel("namespace", s) }

// checkClusterName checks the name of a cluster's folder in an archive.
func checkClusterName(s string) error { return checkSubdomain("cluster name", s) }

// checkGroupResource checks the group and plural that name an object's folders; "" is the core group.
func checkGroupResource(group, resource string) error {
	if group != "" {
		if err := checkSubdomain("group name", group); err != nil {
			return err
		}
	}
	return checkLabel("resource name", resource)
}

// localPath joins checked parts into a path below a folder, and refuses (as a last defence, the parts
// being checked already) any result that would not stay below it.
func localPath(parts ...string) (string, error) {
	p := filepath.Join(parts...)
	if !filepath.IsLocal(p) {
		return "", fmt.Errorf("%q would leave the cluster's folder", p)
	}
	return p, nil
}
