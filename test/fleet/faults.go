package fleet

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clusterv1 "open-cluster-management.io/api/cluster/v1"
)

// Secrets the registration agent keeps on the spoke, as a klusterlet install does.
const (
	HubKubeconfigSecret       = "hub-kubeconfig-secret"
	BootstrapKubeconfigSecret = "bootstrap-hub-kubeconfig"
)

func (c *Cluster) hubKubeconfigDir(f *Fleet) string {
	return filepath.Join(f.Dir, c.Name+"-hub-kubeconfig")
}

// mirrorBootstrapSecret stores the bootstrap kubeconfig as the Secret a klusterlet install creates.
func mirrorBootstrapSecret(ctx context.Context, s *Cluster, kubeconfig []byte) error {
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: BootstrapKubeconfigSecret, Namespace: AgentNamespace},
		Data: map[string][]byte{"kubeconfig": kubeconfig}}
	secrets := s.Kube.CoreV1().Secrets(AgentNamespace)
	if _, err := secrets.Create(ctx, sec, metav1.CreateOptions{}); err != nil {
		if !apierrors.IsAlreadyExists(err) {
			return err
		}
		if _, err := secrets.Update(ctx, sec, metav1.UpdateOptions{}); err != nil {
			return err
		}
	}
	return nil
}

// BreakAgentCredentials makes a spoke's registration agent lose its hub credentials: its client
// certificate is replaced by an expired one, and its bootstrap kubeconfig points at a wrong address
// with a token the hub does not know, so it can neither renew its lease nor bootstrap again. The spoke's
// API server keeps running. RepairAgentCredentials undoes it.
func (f *Fleet) BreakAgentCredentials(ctx context.Context, name string) error {
	s := f.Cluster(name)
	s.RegistrationAgent.Stop(10 * time.Second)
	certPEM, keyPEM, err := expiredCert("system:open-cluster-management:" + name + ":agent")
	if err != nil {
		return err
	}
	dir := s.hubKubeconfigDir(f)
	secrets := s.Kube.CoreV1().Secrets(AgentNamespace)
	sec, err := secrets.Get(ctx, HubKubeconfigSecret, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("%s has no %s: %w", name, HubKubeconfigSecret, err)
	}
	sec.Data["tls.crt"], sec.Data["tls.key"] = certPEM, keyPEM
	if _, err := secrets.Update(ctx, sec, metav1.UpdateOptions{}); err != nil {
		return err
	}
	for file, data := range map[string][]byte{"tls.crt": certPEM, "tls.key": keyPEM} {
		if err := os.WriteFile(filepath.Join(dir, file), data, 0o600); err != nil {
			return err
		}
	}
	bad := filepath.Join(f.Dir, name+"-bad-bootstrap.kubeconfig")
	if err := writeKubeconfig(bad, "hub", "https://127.0.0.1:1", f.pki.caCert, "revoked-bootstrap-token", "", ""); err != nil {
		return err
	}
	data, err := os.ReadFile(bad)
	if err != nil {
		return err
	}
	if err := mirrorBootstrapSecret(ctx, s, data); err != nil {
		return err
	}
	s.RegistrationAgent.setArg("--bootstrap-kubeconfig=", bad)
	return s.RegistrationAgent.Start()
}

// RepairAgentCredentials gives the agent a fresh bootstrap and waits until the cluster is available.
func (f *Fleet) RepairAgentCredentials(ctx context.Context, name string) error {
	s := f.Cluster(name)
	s.RegistrationAgent.Stop(10 * time.Second)
	good := filepath.Join(f.Dir, "bootstrap.kubeconfig")
	data, err := os.ReadFile(good)
	if err != nil {
		return err
	}
	if err := mirrorBootstrapSecret(ctx, s, data); err != nil {
		return err
	}
	if err := os.RemoveAll(s.hubKubeconfigDir(f)); err != nil {
		return err
	}
	if err := s.Kube.CoreV1().Secrets(AgentNamespace).Delete(ctx, HubKubeconfigSecret, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	s.RegistrationAgent.setArg("--bootstrap-kubeconfig=", good)
	if err := s.RegistrationAgent.Start(); err != nil {
		return err
	}
	return f.WaitClusterCondition(ctx, name, clusterv1.ManagedClusterConditionAvailable, metav1.ConditionTrue, 3*time.Minute)
}

// setArg replaces the argument that starts with prefix (the process must be stopped).
func (p *Process) setArg(prefix, value string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, a := range p.args {
		if strings.HasPrefix(a, prefix) {
			p.args[i] = prefix + value
		}
	}
}

// expiredCert makes a self-signed client certificate that expired yesterday.
func expiredCert(cn string) ([]byte, []byte, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn, Organization: []string{"system:open-cluster-management:managed-clusters"}},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	return pemEncode("CERTIFICATE", der), pemEncode("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key)), nil
}
