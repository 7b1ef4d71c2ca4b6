package kubectl

import (
	"reflect"
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		line string
		want []string
	}{
		{"kubectl get pods -n kube-system", []string{"get", "pods", "-n", "kube-system"}},
		{"get pods -o jsonpath='{range .items[*]}{.metadata.name}{\"\\n\"}{end}'", []string{"get", "pods", "-o", `jsonpath={range .items[*]}{.metadata.name}{"\n"}{end}`}},
		{`get pods -l 'app in (a,b)'`, []string{"get", "pods", "-l", "app in (a,b)"}},
		{`get cm "with space"`, []string{"get", "cm", "with space"}},
		{`logs deploy/x --since=5m`, []string{"logs", "deploy/x", "--since=5m"}},
		{`get pods app\*`, []string{"get", "pods", "app*"}},
	}
	for _, tc := range tests {
		got, err := Split(tc.line)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Split(%q) = %q, %v; want %q", tc.line, got, err, tc.want)
		}
	}
}

// hostileLines must all be refused before anything runs.
var hostileLines = []struct {
	line, why string
}{
	{"get pods; rm -rf /", "one command"},
	{"get pods && get secrets", "pipes and"},
	{"get pods | grep x", "pipes and"},
	{"get pods > /tmp/out", "redirections"},
	{"get pods 2>&1", "redirections"},
	{"get pods < /etc/passwd", "redirections"},
	{"get pods $(whoami)", "command substitution"},
	{"get pods `id`", "command substitution"},
	{"get pods $HOME", "variables"},
	{"get pods ${KUBECONFIG}", "variables"},
	{"get pods $((1+1))", "arithmetic"},
	{"get pods *", "glob"},
	{"get pods -o jsonpath={.items[*].metadata.name}", "glob"},
	{"get pods ~/x", "'~'"},
	{"KUBECONFIG=/x get pods", "assignments"},
	{"(get pods)", "subshells"},
	{"get pods &", "'&'"},
	{"get pods\nget secrets", "several lines"},
	{"", "empty"},
	{"get pods 'unterminated", "cannot parse"},
}

func TestSplitRefusesShellSyntax(t *testing.T) {
	for _, tc := range hostileLines {
		_, err := Split(tc.line)
		if err == nil || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("Split(%q) = %v; want an error mentioning %q", tc.line, err, tc.why)
		}
	}
}

// hostileCommands are well-formed command lines the policy must refuse, with the expected explanation.
var hostileCommands = []struct {
	line string
	tool Tool
	why  string
}{
	{"get pods --server=https://evil:6443", ReadTool, "target is chosen by the cluster argument"},
	{"get pods -s https://evil", ReadTool, "target is chosen"},
	{"get pods --kubeconfig /etc/kubernetes/admin.conf", ReadTool, "target is chosen"},
	{"get pods --context other", ReadTool, "target is chosen"},
	{"get pods --cluster other", ReadTool, "target is chosen"},
	{"get pods --token abc", ReadTool, "identity"},
	{"get pods --user admin", ReadTool, "identity"},
	{"get pods --as system:admin", ReadTool, "impersonation"},
	{"get pods --as-group system:masters", ReadTool, "impersonation"},
	{"get pods --insecure-skip-tls-verify", ReadTool, "TLS"},
	{"get pods --certificate-authority /x", ReadTool, "TLS"},
	{"get pods --client-key=/x", ReadTool, "TLS"},
	{"get pods --cache-dir /tmp", ReadTool, "discovery cache"},
	{"get -f /etc/passwd", ReadTool, "manifest argument"},
	{"get -f https://evil/x.yaml", ReadTool, "manifest argument"},
	{"apply -f -", WriteTool, "manifest argument"},
	{"apply --filename=x.yaml", WriteTool, "manifest argument"},
	{"apply -k ./dir", WriteTool, "render the kustomization"},
	{"create configmap x --from-file=/etc/shadow", WriteTool, "--from-literal"},
	{"create secret generic x --from-env-file=.env", WriteTool, "--from-literal"},
	{"get pods -o go-template-file=/x", ReadTool, "inline"},
	{"get pods -o=jsonpath-file=/x", ReadTool, "inline"},
	{"get pods --output custom-columns-file=/x", ReadTool, "inline"},
	{"get --raw /api/v1/namespaces/default/secrets", ReadTool, "Secret elision"},
	{"get pods -w", ReadTool, "watching never ends"},
	{"get pods --watch", ReadTool, "watching never ends"},
	{"events --watch", ReadTool, "watching never ends"},
	{"logs pod/x -f", ReadTool, "--tail"},
	{"logs pod/x --follow", ReadTool, "--tail"},
	{"get pods -v=9", ReadTool, "verbosity"},
	{"get pods --profile=cpu", ReadTool, "profiling"},
	{"config view --raw", ReadTool, "kubeconfig"},
	{"plugin list", ReadTool, "programs"},
	{"edit deploy/x", WriteTool, "editor"},
	{"diff -f x", WriteTool, "diff"},
	{"exec -it pod/x -- sh", ReadTool, "processes"},
	{"attach pod/x", ReadTool, "attaches"},
	{"port-forward svc/x 8080", ReadTool, "tunnels"},
	{"proxy", ReadTool, "proxy"},
	{"cp pod/x:/etc/passwd /tmp/p", ReadTool, "copies files"},
	{"debug node/x", ReadTool, "debugging"},
	{"run x --image=busybox", WriteTool, "arbitrary pods"},
	{"wait --for=condition=Ready pod/x", ReadTool, "blocks"},
	{"auth reconcile -f x", ReadTool, "not available"},
	{"cluster-info dump", ReadTool, "cluster-info"},
	{"set serviceaccount deploy/x sa", WriteTool, "not available"},
	{"delete pod x", ReadTool, "use the kubectl_write tool"},
	{"apply", ReadTool, "use the kubectl_write tool"},
	{"rollout restart deploy/x", ReadTool, "use the kubectl_write tool"},
	{"get pods", WriteTool, "use the kubectl tool"},
	{"frobnicate pods", ReadTool, "unknown or unsupported command"},
	{"--insecure-skip-tls-verify get pods", ReadTool, "comes before the command"},
	{"get pods -- sh", ReadTool, "'--'"},
	{"get pods --stdin", ReadTool, "stdin"},
	// Reading the server's host, minting credentials, editors, raw requests.
	{"patch deploy/x --patch-file=/var/run/secrets/kubernetes.io/serviceaccount/token", WriteTool, "reads a file"},
	{"patch deploy/x --patch-file /etc/passwd --type merge", WriteTool, "reads a file"},
	{"create secret tls t --cert=/etc/tls.crt --key=/etc/tls.key --dry-run=client -o yaml", WriteTool, "certificate and key files"},
	{"create secret docker-registry r --from-file=/root/.docker/config.json", WriteTool, "reads files"},
	{"create token default", WriteTool, "mints"},
	{"create secret generic t --type=kubernetes.io/service-account-token", WriteTool, "mint"},
	{"create token default -n kube-system --duration=8760h", WriteTool, "mints"},
	{"create --edit", WriteTool, "editor"},
	{"create --edit -o yaml --windows-line-endings", WriteTool, "editor"},
	{"apply edit-last-applied deploy/x", WriteTool, "editor"},
	{"apply set-last-applied -f x --create-annotation", WriteTool, "not available"},
	{"apply view-last-applied deploy/x", WriteTool, "not available"},
	{"create --raw /api/v1/namespaces/default/serviceaccounts/default/token", WriteTool, "arbitrary API paths"},
	{"delete --raw /api/v1/namespaces/x", WriteTool, "arbitrary API paths"},
	{"replace --raw /api/v1/namespaces/x", WriteTool, "arbitrary API paths"},
	{"delete pods --all -i", WriteTool, "terminal"},
	{"apply --prune -l app=x", WriteTool, "pruning"},
	{"apply --prune-allowlist=core/v1/Pod", WriteTool, "pruning"},
	{"apply --all", WriteTool, "--prune"},
	{"get pods -R", ReadTool, "walks directories"},
	{"logs pod/x --insecure-skip-tls-verify-backend", ReadTool, "kubelet"},
	{"drain node1 --disable-eviction --force", WriteTool, "PodDisruptionBudgets"},
	{"set env deploy/x --list --resolve", WriteTool, "values of Secrets"},
	{"set env deploy/x --from=secret/s --resolve", WriteTool, "values of Secrets"},
	{"label pods x a=b --local", WriteTool, "local files"},
	{"scale deploy/x --replicas=2 --record", WriteTool, "deprecated"},
	{"top pods --use-protocol-buffers", ReadTool, "JSON"},
	{"create clusterrolebinding x --clusterrole=cluster-admin --user=me", WriteTool, "administrative"},
	{"create rolebinding x --clusterrole=admin --user=me -n prod", WriteTool, "administrative"},
	{"create clusterrolebinding x --clusterrole=system:controller:foo --user=me", WriteTool, "control-plane"},
	{"create rolebinding x --role=r --group=system:masters", WriteTool, "system:masters"},
	{"create clusterrolebinding x --clusterrole=view --group=system:authenticated", WriteTool, "everyone"},
	{"create clusterrolebinding x --clusterrole=view --user=system:anonymous", WriteTool, "anonymous"},
	{"create clusterrole x --aggregation-rule=a=b", WriteTool, "aggregation"},
	{"get pods --subresource=token", ReadTool, "not allowed"},
	{"patch sa/x --subresource=token -p {}", WriteTool, "not allowed"},
	{"get secrets --as=system:admin", ReadTool, "impersonation"},
	{"get pods --as-uid=0", ReadTool, "impersonation"},
	{"get pods --request-timeout=0", ReadTool, "not a flag"},
	{"rollout status deploy/x --timeout=100h", ReadTool, "out of range"},
	{"delete pod x --timeout=24h", WriteTool, "out of range"},
	{"logs -l app=x --max-log-requests=1000", ReadTool, "out of range"},
	{"get pods -o templatefile=/x", ReadTool, "not available"},
	{"get pods -o template-file=/x", ReadTool, "inline"},
	{"get pods -o yaml=x", ReadTool, "takes no value"},
	{"get pods -o custom-columns", ReadTool, "inline"},
	{"get pods -o protobuf", ReadTool, "not available"},
	// Templates that could run without bound inside the server.
	{`get pods -o go-template='{{range .items}}{{range $.items}}{{range $.items}}x{{end}}{{end}}{{end}}'`, ReadTool, "root object"},
	{`get pods -o go-template='{{range 100000000}}{{end}}'`, ReadTool, "range must walk"},
	{`get pods -o go-template='{{define "a"}}{{template "a" .}}{{end}}{{template "a" .}}'`, ReadTool, "templates"},
	{`get pods -o go-template='{{$r := .}}{{range .items}}{{range $r.items}}{{end}}{{end}}'`, ReadTool, "declared by range"},
	{`get pods -o go-template='{{range (slice .items 0)}}{{end}}'`, ReadTool, "range must walk"},
	{`get pods -o go-template='{{range .a}}{{range .b}}{{range .c}}{{range .d}}{{end}}{{end}}{{end}}{{end}}'`, ReadTool, "nest 4 deep"},
	{`get pods -o go-template --template='{{range 9999999}}{{end}}'`, ReadTool, "range must walk"},
	{`get pods -o jsonpath={range.a}{range.b}{range.c}{range.d}{end}{end}{end}{end}`, ReadTool, "nest 4 deep"},
	{"get pods -o jsonpath=" + strings.Repeat("{.a}", 2000), ReadTool, "bytes long"},
	{`get pods --sort-by='{{range 5}}{{end}}'`, ReadTool, "range must walk"},
	{"config view --raw --minify", ReadTool, "kubeconfig"},
	{"certificate approve csr-1", WriteTool, "CSRs"},
	{"auth reconcile", WriteTool, "not available"},
}

func TestCheckRefuses(t *testing.T) {
	for _, tc := range hostileCommands {
		words, err := Split(tc.line)
		if err != nil {
			t.Errorf("Split(%q): %v", tc.line, err)
			continue
		}
		_, err = Check(words, tc.tool, false)
		if err == nil || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("Check(%q, %s) = %v; want an error mentioning %q", tc.line, tc.tool, err, tc.why)
		}
	}
}

func TestCheckAllows(t *testing.T) {
	tests := []struct {
		line     string
		tool     Tool
		manifest bool
		args     []string
		refs     []string
	}{
		{"get pods -A", ReadTool, false, []string{"get", "pods", "-A"}, []string{"pods"}},
		{"-n kube-system get pods", ReadTool, false, []string{"-n", "kube-system", "get", "pods"}, []string{"pods"}},
		{"logs -n ns deploy/x", ReadTool, false, []string{"logs", "-n", "ns", "deploy/x", "--tail=200"}, []string{"deploy/x"}},
		{"logs deploy/x --since=1h", ReadTool, false, []string{"logs", "deploy/x", "--since=1h"}, []string{"deploy/x"}},
		{"rollout status deploy/x", ReadTool, false, []string{"rollout", "status", "deploy/x", "--timeout=25s"}, []string{"status", "deploy/x"}},
		{"auth can-i list pods", ReadTool, false, []string{"auth", "can-i", "list", "pods"}, []string{"can-i", "list", "pods"}},
		{"apply", WriteTool, true, []string{"apply"}, nil},
		{"scale deploy/x --replicas=2", WriteTool, false, []string{"scale", "deploy/x", "--replicas=2"}, []string{"deploy/x"}},
		{"drain node1 --ignore-daemonsets", WriteTool, false, []string{"drain", "node1", "--ignore-daemonsets", "--timeout=25s"}, []string{"node1"}},
		{"rollout status deploy/x", WriteTool, false, []string{"rollout", "status", "deploy/x", "--timeout=25s"}, []string{"status", "deploy/x"}},
		{"-n x rollout restart deploy/y", WriteTool, false, []string{"-n", "x", "rollout", "restart", "deploy/y"}, []string{"restart", "deploy/y"}},
		{"create secret generic s --from-literal=a=b", WriteTool, false, []string{"create", "secret", "generic", "s", "--from-literal=a=b"}, []string{"secret", "generic", "s"}},
		{"create rolebinding rb --clusterrole=view --user=alice -n dev", WriteTool, false, []string{"create", "rolebinding", "rb", "--clusterrole=view", "--user=alice", "-n", "dev"}, []string{"rolebinding", "rb"}},
		{`patch deploy/x -p '{"spec":{}}' --type=merge`, WriteTool, false, []string{"patch", "deploy/x", "-p", `{"spec":{}}`, "--type=merge"}, []string{"deploy/x"}},
		{`get pods -o go-template='{{range .items}}{{range $i, $c := .spec.containers}}{{$c.name}}{{end}}{{end}}'`, ReadTool, false, []string{"get", "pods", "-o", `go-template={{range .items}}{{range $i, $c := .spec.containers}}{{$c.name}}{{end}}{{end}}`}, []string{"pods"}},
		{"get pods -o jsonpath='{range.items[*]}{.metadata.name}{end}'", ReadTool, false, []string{"get", "pods", "-o", "jsonpath={range.items[*]}{.metadata.name}{end}"}, []string{"pods"}},
		{"get pods --sort-by=.metadata.name -ojson", ReadTool, false, []string{"get", "pods", "--sort-by=.metadata.name", "-ojson"}, []string{"pods"}},
		{"delete pod x --grace-period=0 --force", WriteTool, false, []string{"delete", "pod", "x", "--grace-period=0", "--force"}, []string{"pod", "x"}},
	}
	for _, tc := range tests {
		words, err := Split(tc.line)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Check(words, tc.tool, tc.manifest)
		if err != nil {
			t.Errorf("Check(%q): %v", tc.line, err)
			continue
		}
		if !reflect.DeepEqual(p.Args, tc.args) || !reflect.DeepEqual(p.Refs, tc.refs) {
			t.Errorf("Check(%q): args %q refs %q; want %q %q", tc.line, p.Args, p.Refs, tc.args, tc.refs)
		}
	}
}

func TestManifestOnlyWhereRead(t *testing.T) {
	words, _ := Split("scale deploy/x --replicas=1")
	if _, err := Check(words, WriteTool, true); err == nil || !strings.Contains(err.Error(), "manifest argument is only for") {
		t.Errorf("manifest with scale: %v", err)
	}
}
