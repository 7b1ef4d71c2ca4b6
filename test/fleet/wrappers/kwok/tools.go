//go:build tools

// Package tools pins the kwok controller the test fleet runs on every cluster: it plays the kubelet for
// the fleet's nodes and pods (status through stages, logs through its kubelet-like server).
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
