package kubectl

import (
	"os"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// clientGetter gives kubectl exactly one cluster and one identity: the rest.Config it was built with.
// There is no kubeconfig behind it, so no flag or file can point kubectl elsewhere.
type clientGetter struct {
	cfg       *rest.Config
	discovery discovery.CachedDiscoveryInterface
	mapper    meta.RESTMapper // shared per cluster; resets itself when discovery is invalidated
	namespace *string         // the -n flag
}

func (g *clientGetter) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(g.cfg), nil }

func (g *clientGetter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	return g.discovery, nil
}

func (g *clientGetter) ToRESTMapper() (meta.RESTMapper, error) { return g.mapper, nil }

func (g *clientGetter) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	return &fixedClientConfig{getter: g}
}

// fixedClientConfig answers kubectl's questions about "the kubeconfig" from the fixed target.
type fixedClientConfig struct{ getter *clientGetter }

const contextName = "target"

func (c *fixedClientConfig) RawConfig() (clientcmdapi.Config, error) {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[contextName] = &clientcmdapi.Cluster{Server: c.getter.cfg.Host}
	cfg.AuthInfos[contextName] = &clientcmdapi.AuthInfo{}
	ns, _, _ := c.Namespace()
	cfg.Contexts[contextName] = &clientcmdapi.Context{Cluster: contextName, AuthInfo: contextName, Namespace: ns}
	cfg.CurrentContext = contextName
	return *cfg, nil
}

func (c *fixedClientConfig) ClientConfig() (*rest.Config, error) { return c.getter.ToRESTConfig() }

func (c *fixedClientConfig) Namespace() (string, bool, error) {
	if ns := *c.getter.namespace; ns != "" {
		return ns, true, nil
	}
	return "default", false, nil
}

// ConfigAccess is only used by `kubectl config`, which is not offered; it points at nothing.
func (c *fixedClientConfig) ConfigAccess() clientcmd.ConfigAccess {
	return &clientcmd.PathOptions{GlobalFile: os.DevNull, LoadingRules: &clientcmd.ClientConfigLoadingRules{ExplicitPath: os.DevNull}}
}
