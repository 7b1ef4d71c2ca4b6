// Package ocm is the server's view of the Open Cluster Management hub: the connection to it, the
// ManagedClusters it knows, and what their status says.
package ocm

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clusterclient "open-cluster-management.io/api/client/cluster/clientset/versioned"
)

// HubOptions says how to reach the hub.
type HubOptions struct {
	Kubeconfig string // explicit path; empty means $KUBECONFIG, ~/.kube/config, then in-cluster
	Context    string
	Timeout    time.Duration // per request to the hub
	UserAgent  string
}

// Hub is a connection to the OCM hub's API server. Building one does not contact the server, so the MCP
// server can start while the hub is down and report the problem per tool call.
type Hub struct {
	// Name identifies the hub in messages: the kubeconfig context (or "in-cluster") and the server URL.
	Name    string
	Config  *rest.Config
	Kube    kubernetes.Interface
	Cluster clusterclient.Interface
}

// ConnectHub loads the hub's client configuration and builds its clients.
func ConnectHub(o HubOptions) (*Hub, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = o.Kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: o.Context}
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	cfg, err := loader.ClientConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) {
			return nil, errors.New("no hub kubeconfig found: set --kubeconfig or KUBECONFIG, or run inside the hub cluster")
		}
		return nil, fmt.Errorf("loading the hub kubeconfig: %w", err)
	}
	cfg.Timeout = o.Timeout
	cfg.UserAgent = o.UserAgent
	// Tool calls fan out to many lists; the client-go defaults (5 QPS) would throttle a single call.
	cfg.QPS, cfg.Burst = 50, 100
	name := o.Context
	if name == "" {
		if raw, err := loader.RawConfig(); err == nil && raw.CurrentContext != "" {
			name = raw.CurrentContext
		} else {
			name = "in-cluster"
		}
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("hub client: %w", err)
	}
	cluster, err := clusterclient.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("hub OCM client: %w", err)
	}
	return &Hub{Name: fmt.Sprintf("%s (%s)", name, cfg.Host), Config: cfg, Kube: kube, Cluster: cluster}, nil
}

// Explain turns an error from a hub call into a sentence that says which hub, what went wrong and what
// to check. resource names what was being read, e.g. "managedclusters.cluster.open-cluster-management.io".
func (h *Hub) Explain(err error, resource string) error {
	if err == nil {
		return nil
	}
	switch {
	case apierrors.IsNotFound(err) && isMissingResource(err):
		return fmt.Errorf("hub %s does not serve %s: is the OCM cluster manager installed on it? (%v)", h.Name, resource, err)
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("hub %s rejected the server's credentials (401): the kubeconfig's token or certificate is invalid or expired", h.Name)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("hub %s forbids the server's identity to read %s: %v", h.Name, resource, err)
	case isUnreachable(err):
		return fmt.Errorf("hub %s is unreachable: %v. Check that its API server is up and that --kubeconfig/--context point at it", h.Name, rootCause(err))
	default:
		return fmt.Errorf("hub %s: reading %s: %w", h.Name, resource, err)
	}
}

// isMissingResource distinguishes "the API has no such resource type" (CRD not installed) from "no object
// with that name".
func isMissingResource(err error) bool {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return false
	}
	d := status.Status().Details
	return d == nil || d.Name == ""
}

func isUnreachable(err error) bool {
	var netErr net.Error
	var urlErr *url.Error
	return errors.As(err, &netErr) || errors.As(err, &urlErr) || strings.Contains(err.Error(), "connection refused")
}

// rootCause strips the URL wrapping ("Get \"https://...\": dial tcp ...") down to the network error.
func rootCause(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) && urlErr.Err != nil {
		return urlErr.Err
	}
	return err
}
