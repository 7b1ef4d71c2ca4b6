//go:build tools

// Package tools pins Thanos for the test fleet: a sidecar beside each cluster's Prometheus and, on the
// hub, a querier over all sidecars, as ACM observability serves the fleet's series labelled by cluster.
// build-binaries.sh builds it with the tags of its releases (netgo, slicelabels): Thanos reads Prometheus
// label sets as slices.
package tools

import _ "github.com/thanos-io/thanos/cmd/thanos"
