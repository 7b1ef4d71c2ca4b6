package mustgather

import (
	"math"
	"strconv"
	"strings"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/redact"
)

// Credentials are elided twice: by the collector, from every object it writes, and by the reader, from
// every object it serves, since a real `oc adm must-gather` (or an archive made by hand) can hold them
// in full: oc elides the Secrets it lists, not the Secrets other objects embed (ManifestWork workloads,
// policy templates, last-applied copies). Both use one rule, internal/redact's, with values replaced
// the way `oc adm inspect` replaces them: "N bytes long".

// KubeconfigServerAnnotation records, on an archived Secret holding a kubeconfig, the API server URL the
// kubeconfig points at: the one part of it an engineer needs that is not a credential.
const KubeconfigServerAnnotation = "must-gather.multicluster-mcp-server.io/kubeconfig-server"

// publicKeys are Secret keys that hold certificates, kept as `oc adm inspect` keeps them.
var publicKeys = map[string]bool{"tls.crt": true, "ca.crt": true, "service-ca.crt": true}

// elidedSuffix ends the value that replaces a Secret value.
const elidedSuffix = " bytes long"

// elidedValue is what replaces a Secret value of n bytes.
func elidedValue(n int) string { return strconv.Itoa(n) + elidedSuffix }

// parseElided reads a value elidedValue wrote ("N bytes long"), strictly: digits, then the suffix. A
// number too large for an int64 reads as the largest one: callers bound what they make of it.
func parseElided(s string) (int64, bool) {
	num, ok := strings.CutSuffix(s, elidedSuffix)
	if !ok || num == "" {
		return 0, false
	}
	for i := 0; i < len(num); i++ {
		if num[i] < '0' || num[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return math.MaxInt64, true // out of range: all digits were checked
	}
	return n, true
}

// lengthValues replaces each Secret value with its length. A value that already is one (an archive of
// this collector, or of oc) is kept, so that eliding twice changes nothing.
type lengthValues struct{}

func (lengthValues) Data(_, b64 string) string {
	if _, ok := parseElided(b64); ok {
		return b64
	}
	return elidedValue(redact.DecodedLen(b64))
}

func (lengthValues) StringData(_, s string) string {
	if _, ok := parseElided(s); ok {
		return s
	}
	return elidedValue(len(s))
}

// elideObject removes every credential an object holds, in place: Secret values (its own, when it is a
// Secret, and those of every Secret it embeds) become their length, certificates excepted; token
// annotations and last-applied copies are elided. fromSecrets says the object was read as a Secret
// (from the secrets resource), where list items carry no kind. A Secret holding a kubeconfig keeps the
// server URL it points at, as an annotation.
func elideObject(obj map[string]any, fromSecrets bool) {
	kind, _ := obj["kind"].(string)
	if kind == "Secret" || (fromSecrets && kind == "") {
		annotateKubeconfigServer(obj)
	}
	redact.Doc(obj, lengthValues{}, redact.Options{SecretContext: fromSecrets, Keep: func(k string) bool { return publicKeys[k] }})
}

// annotateKubeconfigServer records the server of a Secret's kubeconfig, when it holds one in clear.
func annotateKubeconfigServer(obj map[string]any) {
	data, _ := obj["data"].(map[string]any)
	kc, _ := data["kubeconfig"].(string)
	if kc == "" {
		return
	}
	server := kubeconfigServer(kc)
	if server == "" {
		return
	}
	md, ok := obj["metadata"].(map[string]any)
	if !ok {
		return
	}
	ann, _ := md["annotations"].(map[string]any)
	if ann == nil {
		ann = map[string]any{}
		md["annotations"] = ann
	}
	if _, ok := ann[KubeconfigServerAnnotation]; !ok {
		ann[KubeconfigServerAnnotation] = server
	}
}
