#!/usr/bin/env bash
# Builds the test fleet's binaries (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, the OCM
# hub and agent commands, the managed-serviceaccount manager, kwok, Prometheus, Thanos and the Helm client)
# from the Go module proxy, once, into a cache outside the checkout keyed by the wrapper module's content. Prints the directory
# holding the binaries.
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
# Prometheus module v0.316.0 is Prometheus 3.16.0; Thanos reports its module version.
prom_ldflags="-s -w -X github.com/prometheus/common/version.Version=3.16.0"
thanos_ldflags="-s -w -X github.com/prometheus/common/version.Version=0.42.4"
# Helm's version is its module version (the module alone says v4.3).
helm_ldflags="-s -w -X helm.sh/helm/v4/internal/version.version=v4.3.2"

# build WRAPPER NAME=PACKAGE... : builds each package of one wrapper module into its cache folder.
build() {
	local wrapper=$1; shift
	local src=$here/wrappers/$wrapper
	# Thanos casts Prometheus label sets to its own slices: it works only with the slicelabels layout
	# (its releases are built with these tags; without them its gRPC answers are garbage).
	local tags=""
	[[ $wrapper == thanos ]] && tags=netgo,slicelabels
	local key
	key=$({
		cat "$src/go.mod" "$src/go.sum" "$src/tools.go"
		echo "$gover"
		if [[ -n $tags ]]; then echo "tags=$tags"; fi
	} | sha256sum | cut -c1-16)
	local out=$cache/$wrapper-$key
	if [[ -f $out/.complete ]]; then
		echo "$out"
		return
	fi
	mkdir -p "$out"
	local ldflags="-s -w"
	[[ $wrapper == kube ]] && ldflags=$kube_ldflags
	[[ $wrapper == prom ]] && ldflags=$prom_ldflags
	[[ $wrapper == thanos ]] && ldflags=$thanos_ldflags
	[[ $wrapper == helm ]] && ldflags=$helm_ldflags
	for spec in "$@"; do
		local name=${spec%%=*} pkg=${spec#*=}
		[[ -x $out/$name ]] && continue # built by an interrupted run
		echo "building $name ($pkg)" >&2
		# Explicit: errexit does not reach into the command substitution that calls build.
		(cd "$src" && go build -trimpath -tags="$tags" -ldflags="$ldflags" -o "$out/$name" "$pkg") >&2 || return 1
	done
	touch "$out/.complete"
	echo "$out"
}

mkdir -p "$cache"
# One build at a time per cache: checkouts started together wait for the first one's binaries instead of
# compiling the same ones side by side.
exec 9>"$cache/.lock"
if ! flock -n 9; then
	echo "waiting for another build of the fleet binaries to finish" >&2
	flock 9
fi
dirs=()
while read -r wrapper specs; do
	# shellcheck disable=SC2086 # specs is a list of NAME=PACKAGE words
	d=$(build "$wrapper" $specs) || { echo "building the $wrapper binaries failed" >&2; exit 1; }
	dirs+=("$d")
done <<'EOF'
etcd etcd=go.etcd.io/etcd/server/v3
kube kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver kube-controller-manager=k8s.io/kubernetes/cmd/kube-controller-manager kube-scheduler=k8s.io/kubernetes/cmd/kube-scheduler
ocm registration=open-cluster-management.io/ocm/cmd/registration work=open-cluster-management.io/ocm/cmd/work placement=open-cluster-management.io/ocm/cmd/placement addon=open-cluster-management.io/ocm/cmd/addon
msa msa=open-cluster-management.io/managed-serviceaccount/cmd
kwok kwok=sigs.k8s.io/kwok/cmd/kwok
prom prometheus=github.com/prometheus/prometheus/cmd/prometheus
thanos thanos=github.com/thanos-io/thanos/cmd/thanos
helm helm=helm.sh/helm/v4/cmd/helm
EOF
# One folder of links, so callers need a single path; named after the set of builds, so checkouts that
# need different binaries do not swap each other's folder.
bin=$cache/current-$(printf '%s\n' "${dirs[@]}" | sha256sum | cut -c1-12)
if [[ -d $bin ]]; then
	echo "$bin"
	exit 0
fi
tmp=$(mktemp -d "$cache/.current.XXXXXX")
for d in "${dirs[@]}"; do
	for f in "$d"/*; do ln -s "$f" "$tmp/$(basename "$f")"; done
done
rm -rf "$bin"
mv "$tmp" "$bin"
echo "$bin"
