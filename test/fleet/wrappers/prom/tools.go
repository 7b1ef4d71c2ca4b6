//go:build tools

// Package tools pins the Prometheus server the test fleet runs beside each cluster: it scrapes that
// cluster's API server and kwok, evaluates the fleet's alert rules and is read through the cluster's API
// server service proxy and by a Thanos sidecar. Built without the builtinassets tag: the HTTP API works,
// the web UI answers that its assets are missing.
package tools

import _ "github.com/prometheus/prometheus/cmd/prometheus"
