//go:build tools

// Package tools pins the etcd server so `go build` can produce the binary the test fleet runs.
package tools

import _ "go.etcd.io/etcd/server/v3"
