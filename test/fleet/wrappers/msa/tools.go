//go:build tools

// Package tools pins the managed-serviceaccount add-on manager the test fleet runs on the hub.
package tools

import _ "open-cluster-management.io/managed-serviceaccount/cmd"
