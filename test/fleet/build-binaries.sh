#!/usr/bin/env bash
# Builds the test fleet's binaries (etcd, kube-apiserver, kube-controller-manager, the OCM hub and agent
# commands, the managed-serviceaccount manager) from the Go module proxy, once, into a cache outside the
# checkout keyed by the wrapper module's content. Prints the directory holding the binaries.
#
#   FLEET_BIN_CACHE   cache root (default: ${XDG_CACHE_HOME:-$HOME/.cache}/multicluster-mcp-server/fleet-bin)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${FLEET_BIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/multicluster-mcp-server/fleet-bin}
gover=$(go env GOVERSION)
# sigs.k8s.io/about-api (an ocm dependency) is missing from the checksum database.
export GONOSUMDB=${GONOSUMDB:+$GONOSUMDB,}sigs.k8s.io/about-api
export GOFLAGS="${GOFLAGS:-} -mod=mod"

kube_ldflags="-s -w -X k8s.io/component-base/version.gitVersion=v1.36.3 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=36"

# build WRAPPER NAME=PACKAGE... : builds each package of one wrapper module into its cache folder.
build() {
	local wrapper=$1; shift
	local src=$here/wrappers/$wrapper
	local key
	key=$(cat "$src/go.mod" "$src/go.sum" "$src/tools.go" <(echo "$gover") | sha256sum | cut -c1-16)
	local out=$cache/$wrapper-$key
	if [[ -f $out/.complete ]]; then
		echo "$out"
		return
	fi
	mkdir -p "$out"
	local ldflags="-s -w"
	[[ $wrapper == kube ]] && ldflags=$kube_ldflags
	for spec in "$@"; do
		local name=${spec%%=*} pkg=${spec#*=}
		echo "building $name ($pkg)" >&2
		(cd "$src" && go build -trimpath -ldflags="$ldflags" -o "$out/$name" "$pkg") >&2
	done
	touch "$out/.complete"
	echo "$out"
}

bin=$cache/current
mkdir -p "$cache"
dirs=(
	"$(build etcd etcd=go.etcd.io/etcd/server/v3)"
	"$(build kube kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver kube-controller-manager=k8s.io/kubernetes/cmd/kube-controller-manager)"
	"$(build ocm registration=open-cluster-management.io/ocm/cmd/registration work=open-cluster-management.io/ocm/cmd/work placement=open-cluster-management.io/ocm/cmd/placement addon=open-cluster-management.io/ocm/cmd/addon)"
	"$(build msa msa=open-cluster-management.io/managed-serviceaccount/cmd)"
)
# One folder of links, so callers need a single path.
tmp=$(mktemp -d "$cache/.current.XXXXXX")
for d in "${dirs[@]}"; do
	for f in "$d"/*; do ln -s "$f" "$tmp/$(basename "$f")"; done
done
rm -rf "$bin"
mv "$tmp" "$bin"
echo "$bin"
