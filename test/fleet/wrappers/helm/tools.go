//go:build tools

// Package tools pins the Helm client the end-to-end tests lint, render, install and uninstall the chart
// in manifests/helm with.
package tools

import _ "helm.sh/helm/v4/cmd/helm"
