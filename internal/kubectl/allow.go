package kubectl

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// valueRule checks the value a flag was given; nil accepts any value.
type valueRule func(value string) error

// flags is the allow-list of one command: flag name (long form) to its value rule.
type flags map[string]valueRule

// with returns a copy of f plus the given groups.
func (f flags) with(groups ...flags) flags {
	out := flags{}
	for _, g := range append([]flags{f}, groups...) {
		for k, v := range g {
			out[k] = v
		}
	}
	return out
}

// Flag groups shared by several commands.
var (
	anyValue valueRule

	rootFlags = flags{"namespace": anyValue, "warnings-as-errors": anyValue, "match-server-version": anyValue, "help": anyValue}
	printing  = flags{"output": outputFormat, "template": inlineTemplate, "allow-missing-template-keys": anyValue, "show-managed-fields": anyValue}
	selecting = flags{"selector": anyValue}
	allNS     = flags{"all-namespaces": anyValue}
	dryRun    = flags{"dry-run": oneOf("none", "server", "client")}
	manager   = flags{"field-manager": anyValue}
	validate  = flags{"validate": oneOf("true", "false", "strict", "warn", "ignore")}
	waiting   = flags{"timeout": maxDuration(maxWait), "wait": anyValue}
	deleting  = flags{"cascade": oneOf("background", "foreground", "orphan", "true", "false"), "grace-period": anyValue, "force": anyValue}
	creating  = printing.with(dryRun, manager, validate, flags{"save-config": anyValue})
	changing  = printing.with(dryRun, manager)
)

// maxWait bounds flags that make a command wait.
const maxWait = 5 * time.Minute

// allowed lists, per command path, every flag a caller may give. A flag absent here is refused, with the
// reason from refusedFlags when it has one. The engine adds -f itself for the manifest argument.
var allowed = map[string]flags{
	"get": printing.with(selecting, allNS, flags{"chunk-size": anyValue, "field-selector": anyValue, "ignore-not-found": anyValue,
		"label-columns": anyValue, "no-headers": anyValue, "server-print": anyValue, "show-kind": anyValue, "show-labels": anyValue,
		"sort-by": inlineTemplate, "subresource": oneOf("status", "scale")}),
	"describe": selecting.with(allNS, flags{"chunk-size": anyValue, "show-events": anyValue}),
	"logs": selecting.with(flags{"all-containers": anyValue, "all-pods": anyValue, "container": anyValue, "ignore-errors": anyValue,
		"limit-bytes": anyValue, "max-log-requests": maxInt(20), "pod-running-timeout": maxDuration(maxWait), "prefix": anyValue,
		"previous": anyValue, "since": anyValue, "since-time": anyValue, "tail": anyValue, "timestamps": anyValue}),
	"events":        printing.with(allNS, flags{"chunk-size": anyValue, "for": anyValue, "no-headers": anyValue, "types": anyValue}),
	"explain":       {"api-version": anyValue, "max-depth": maxInt(10), "output": oneOf("plaintext", "plaintext-openapiv2"), "recursive": anyValue},
	"api-resources": {"api-group": anyValue, "show-managed-fields": anyValue, "cached": anyValue, "categories": anyValue, "namespaced": anyValue, "no-headers": anyValue, "output": oneOf("wide", "name"), "sort-by": oneOf("name", "kind"), "verbs": anyValue},
	"api-versions":  {},
	"version":       {"client": anyValue, "output": oneOf("json", "yaml")},
	"cluster-info":  {},
	"top node":      selecting.with(flags{"no-headers": anyValue, "show-capacity": anyValue, "show-swap": anyValue, "sort-by": oneOf("cpu", "memory")}),
	"top pod": selecting.with(allNS, flags{"containers": anyValue, "field-selector": anyValue, "no-headers": anyValue, "show-swap": anyValue,
		"sort-by": oneOf("cpu", "memory"), "sum": anyValue}),
	"auth can-i":      allNS.with(flags{"list": anyValue, "no-headers": anyValue, "quiet": anyValue, "subresource": anyValue}),
	"auth whoami":     printing,
	"rollout status":  selecting.with(flags{"revision": anyValue, "timeout": maxDuration(maxWait), "watch": anyValue}),
	"rollout history": printing.with(selecting, flags{"revision": anyValue}),
	"rollout restart": printing.with(selecting, manager),
	"rollout pause":   printing.with(selecting, manager),
	"rollout resume":  printing.with(selecting, manager),
	"rollout undo":    printing.with(selecting, dryRun, flags{"to-revision": anyValue}),

	"apply": printing.with(selecting, dryRun, manager, validate, waiting, deleting, flags{"force-conflicts": anyValue, "overwrite": anyValue,
		"server-side": anyValue, "openapi-patch": anyValue, "subresource": oneOf("status", "scale")}),
	"create":                        creating.with(selecting),
	"create configmap":              creating.with(flags{"from-literal": anyValue, "append-hash": anyValue}),
	"create cronjob":                creating.with(flags{"image": anyValue, "restart": anyValue, "schedule": anyValue}),
	"create deployment":             creating.with(flags{"image": anyValue, "port": anyValue, "replicas": anyValue}),
	"create ingress":                creating.with(flags{"annotation": anyValue, "class": anyValue, "default-backend": anyValue, "rule": anyValue}),
	"create job":                    creating.with(flags{"from": anyValue, "image": anyValue}),
	"create namespace":              creating,
	"create poddisruptionbudget":    creating.with(flags{"max-unavailable": anyValue, "min-available": anyValue, "selector": anyValue}),
	"create priorityclass":          creating.with(flags{"description": anyValue, "global-default": anyValue, "preemption-policy": anyValue, "value": anyValue}),
	"create quota":                  creating.with(flags{"hard": anyValue, "scopes": anyValue}),
	"create role":                   creating.with(flags{"resource": anyValue, "resource-name": anyValue, "verb": anyValue}),
	"create clusterrole":            creating.with(flags{"resource": anyValue, "resource-name": anyValue, "verb": anyValue, "non-resource-url": anyValue}),
	"create rolebinding":            creating.with(flags{"clusterrole": grantableRole, "role": grantableRole, "group": grantableGroups, "serviceaccount": anyValue, "user": grantableUsers}),
	"create clusterrolebinding":     creating.with(flags{"clusterrole": grantableRole, "group": grantableGroups, "serviceaccount": anyValue, "user": grantableUsers}),
	"create secret generic":         creating.with(flags{"from-literal": anyValue, "type": notTokenSecret, "append-hash": anyValue}),
	"create secret docker-registry": creating.with(flags{"docker-email": anyValue, "docker-password": anyValue, "docker-server": anyValue, "docker-username": anyValue, "append-hash": anyValue}),
	"create service clusterip":      creating.with(flags{"clusterip": anyValue, "tcp": anyValue}),
	"create service externalname":   creating.with(flags{"external-name": anyValue, "tcp": anyValue}),
	"create service loadbalancer":   creating.with(flags{"tcp": anyValue}),
	"create service nodeport":       creating.with(flags{"node-port": anyValue, "tcp": anyValue}),
	"create serviceaccount":         creating,
	"replace":                       printing.with(dryRun, manager, validate, waiting, deleting, flags{"save-config": anyValue, "subresource": oneOf("status", "scale")}),
	"delete": selecting.with(allNS, dryRun, waiting, deleting, flags{"all": anyValue, "field-selector": anyValue, "ignore-not-found": anyValue,
		"now": anyValue, "output": oneOf("name")}),
	"patch": changing.with(flags{"patch": anyValue, "subresource": oneOf("status", "scale"), "type": oneOf("json", "merge", "strategic")}),
	"label": changing.with(selecting, allNS, flags{"all": anyValue, "field-selector": anyValue, "list": anyValue, "overwrite": anyValue,
		"resource-version": anyValue}),
	"annotate": changing.with(selecting, allNS, flags{"all": anyValue, "field-selector": anyValue, "list": anyValue, "overwrite": anyValue,
		"resource-version": anyValue}),
	"scale": printing.with(selecting, dryRun, flags{"all": anyValue, "current-replicas": anyValue, "replicas": anyValue,
		"resource-version": anyValue, "timeout": maxDuration(maxWait)}),
	"autoscale": changing.with(flags{"cpu": anyValue, "cpu-percent": anyValue, "max": anyValue, "memory": anyValue, "min": anyValue,
		"name": anyValue, "save-config": anyValue}),
	"set image": changing.with(selecting, flags{"all": anyValue}),
	"set env": changing.with(selecting, flags{"all": anyValue, "containers": anyValue, "env": anyValue, "from": anyValue, "keys": anyValue,
		"list": anyValue, "overwrite": anyValue, "prefix": anyValue}),
	"set resources": changing.with(selecting, flags{"all": anyValue, "containers": anyValue, "limits": anyValue, "requests": anyValue}),
	"cordon":        selecting.with(dryRun),
	"uncordon":      selecting.with(dryRun),
	"drain": selecting.with(dryRun, flags{"chunk-size": anyValue, "delete-emptydir-data": anyValue, "force": anyValue, "grace-period": anyValue,
		"ignore-daemonsets": anyValue, "pod-selector": anyValue, "skip-wait-for-delete-timeout": anyValue, "timeout": maxDuration(maxWait)}),
	"taint": changing.with(selecting, validate, flags{"all": anyValue, "overwrite": anyValue}),
}

// Reasons for refusing flags that kubectl has, given to the caller. "*" applies to every command.
var refusedFlags = map[string]string{
	"filename":  "it reads files or URLs on the server's host: pass the YAML or JSON in the manifest argument instead",
	"kustomize": "it reads directories on the server's host: render the kustomization and pass it in the manifest argument",
	"recursive": "it walks directories on the server's host: pass the objects in the manifest argument",
	"from-file": "it reads files on the server's host: use --from-literal", "from-env-file": "it reads files on the server's host: use --from-literal",
	"patch-file":                       "it reads a file on the server's host: give the patch inline with -p",
	"cert":                             "it reads a file on the server's host",
	"key":                              "it reads a file on the server's host",
	"raw":                              "it sends requests to arbitrary API paths (and would bypass Secret elision): use a resource type",
	"edit":                             "it opens an editor on the server's host: give the object in the manifest argument",
	"windows-line-endings":             "it only applies to an editor, which does not run here",
	"interactive":                      "there is no terminal to confirm on; every change is one explicit call",
	"watch":                            "watching never ends: the tool returns one snapshot; run the command again to see changes",
	"watch-only":                       "watching never ends: the tool returns one snapshot",
	"output-watch-events":              "watching never ends: the tool returns one snapshot",
	"follow":                           "following logs never ends: use --tail=N or --since=10m to bound them",
	"insecure-skip-tls-verify-backend": "TLS checks of the kubelet are not optional",
	"prune":                            "pruning deletes every object the manifest does not name: delete objects explicitly",
	"prune-allowlist":                  "pruning is not available",
	"local":                            "it works on local files only",
	"record":                           "it is deprecated and records the command line in the object",
	"resolve":                          "it prints the values of Secrets",
	"disable-eviction":                 "it deletes pods without the eviction API, ignoring PodDisruptionBudgets",
	"use-protocol-buffers":             "responses are read as JSON so that they can be filtered",
	"all":                              "this command does not offer selecting every object of the type (it only means something with --prune)",
	"aggregation-rule":                 "an aggregation rule makes a role gather the rights of other roles: list the rules with --verb and --resource",
}

// refusedCommands are kubectl subcommands that exist under an allowed command but are not offered.
var refusedCommands = map[string]string{
	"create token":            "it mints a ServiceAccount token, a credential; no tool issues credentials",
	"create secret tls":       "it reads certificate and key files on the server's host: use create secret generic --type=kubernetes.io/tls --from-literal=tls.crt=... --from-literal=tls.key=..., or the manifest argument",
	"apply edit-last-applied": "it opens an editor on the server's host",
	"apply set-last-applied":  "it rewrites the last-applied annotation from local files",
	"apply view-last-applied": "it reads local files; use get -o yaml and read the kubectl.kubernetes.io/last-applied-configuration annotation",
	"create secret":           "name the kind of Secret: create secret generic or create secret docker-registry",
	"create service":          "name the kind of Service: create service clusterip, nodeport, loadbalancer or externalname",
	"top":                     "name what to measure: top node or top pod",
	"auth":                    "name the question: auth can-i or auth whoami",
	"rollout":                 "name the action: rollout status, history, restart, undo, pause or resume",
	"set":                     "name what to set: set image, set env or set resources",
	"set serviceaccount":      "not offered; patch the pod template's serviceAccountName with kubectl_write patch",
	"set subject":             "it changes who a role binding grants; apply the binding as a manifest",
	"set selector":            "not offered",
}

// allows reports whether flag name is on command path's allow-list, and its value rule.
func allows(path, name string) (valueRule, bool) {
	if rule, ok := rootFlags[name]; ok {
		return rule, true
	}
	rule, ok := allowed[path][name]
	return rule, ok
}

// refusal explains why a flag is refused on a command.
func refusal(path, flag string) error {
	why, known := refusedFlags[flag]
	if !known {
		why = "it is not on the allow-list of `kubectl " + path + "`"
	}
	list := allowedList(path)
	return fmt.Errorf("flag --%s is not available: %s. `kubectl %s` accepts: %s", flag, why, path, list)
}

// notTokenSecret refuses the Secret type the token controller fills with a ServiceAccount token.
func notTokenSecret(v string) error {
	if v == "kubernetes.io/service-account-token" {
		return fmt.Errorf("a Secret of type %s makes the cluster mint a token; no tool issues credentials", v)
	}
	return nil
}

func oneOf(values ...string) valueRule {
	return func(v string) error {
		for _, ok := range values {
			if v == ok {
				return nil
			}
		}
		return fmt.Errorf("value %q is not allowed: use one of %s", v, strings.Join(values, ", "))
	}
}

func maxDuration(limit time.Duration) valueRule {
	return func(v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("value %q is not a duration", v)
		}
		if d > limit || d < 0 {
			return fmt.Errorf("value %s is out of range: at most %s", d, limit)
		}
		return nil
	}
}

func maxInt(limit int) valueRule {
	return func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > limit {
			return fmt.Errorf("value %q is out of range: between 0 and %d", v, limit)
		}
		return nil
	}
}
