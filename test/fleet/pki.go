package fleet

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// pki is the fleet's certificate material: one CA signs every API server's serving certificate, the
// admin client certificate and the CSRs that OCM agents submit (through the hub's controller-manager).
type pki struct {
	dir                       string
	caCert, caKey             string
	servingCert, servingKey   string
	adminCert, adminKey       string
	saPublicKey, saPrivateKey string
	tokens                    string
	auditPolicy               string
	caPEM                     []byte
}

// Static tokens known to every API server: admin (system:masters), used as the registration agents'
// bootstrap identity; nobody, a user with no rights.
const (
	AdminToken  = "admin-token"
	NobodyToken = "nobody-token"
	// ServerToken is a cluster-admin identity of its own for the MCP server under test, so that the
	// audit logs tell its requests apart from the harness's.
	ServerToken = "mcp-server-token"
	ServerUser  = "mcp-server"
	// OperatorToken is a fleet operator (group fleet:operators, bound to cluster-admin on the hub by
	// the tests): what a real administrator's token looks like to the MCP server, unlike admin's
	// system:masters, which the server refuses to act as.
	OperatorToken = "operator-token"
	OperatorGroup = "fleet:operators"
	// AliceToken and BobToken are plain users with no rights until a test grants some.
	AliceToken = "alice-token"
	BobToken   = "bob-token"
)

// auditPolicy records every request's metadata (who, verb, resource), never bodies.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
`

func newPKI(dir string) (*pki, error) {
	p := &pki{
		dir:    dir,
		caCert: filepath.Join(dir, "ca.crt"), caKey: filepath.Join(dir, "ca.key"),
		servingCert: filepath.Join(dir, "apiserver.crt"), servingKey: filepath.Join(dir, "apiserver.key"),
		adminCert: filepath.Join(dir, "admin.crt"), adminKey: filepath.Join(dir, "admin.key"),
		saPublicKey: filepath.Join(dir, "sa.pub"), saPrivateKey: filepath.Join(dir, "sa.key"),
		tokens: filepath.Join(dir, "tokens.csv"), auditPolicy: filepath.Join(dir, "audit-policy.yaml"),
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	caKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	now := time.Now().Add(-time.Hour)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "fleet-lab-ca"},
		NotBefore:             now,
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, _ := x509.ParseCertificate(caDER)
	p.caPEM = pemEncode("CERTIFICATE", caDER)
	if err := writeFiles(map[string][]byte{
		p.caCert: p.caPEM,
		p.caKey:  pemEncode("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(caKey)),
	}); err != nil {
		return nil, err
	}
	serving := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "kube-apiserver"},
		NotBefore:    now, NotAfter: now.Add(365 * 24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.0.0.1")},
		DNSNames:    []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"},
	}
	if err := p.issue(ca, caKey, serving, p.servingCert, p.servingKey); err != nil {
		return nil, err
	}
	admin := &x509.Certificate{
		SerialNumber: big.NewInt(3),
		Subject:      pkix.Name{CommonName: "admin", Organization: []string{"system:masters"}},
		NotBefore:    now, NotAfter: now.Add(365 * 24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if err := p.issue(ca, caKey, admin, p.adminCert, p.adminKey); err != nil {
		return nil, err
	}
	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	saPub, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return nil, err
	}
	tokens := fmt.Sprintf("%s,admin,admin-uid,\"system:masters\"\n%s,nobody,nobody-uid,\"fleet:test\"\n%s,%s,mcp-uid,\"system:masters\"\n"+
		"%s,alice,alice-uid,\"fleet:users\"\n%s,bob,bob-uid,\"fleet:users\"\n%s,operator,operator-uid,\"%s\"\n"+
		"%s,%s,prometheus-uid,\"fleet:metrics\"\n",
		AdminToken, NobodyToken, ServerToken, ServerUser, AliceToken, BobToken, OperatorToken, OperatorGroup, PrometheusToken, PrometheusUser)
	return p, writeFiles(map[string][]byte{
		p.saPrivateKey: pemEncode("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(saKey)),
		p.saPublicKey:  pemEncode("PUBLIC KEY", saPub),
		p.tokens:       []byte(tokens),
		p.auditPolicy:  []byte(auditPolicy),
	})
}

func (p *pki) issue(ca *x509.Certificate, caKey *rsa.PrivateKey, tmpl *x509.Certificate, certPath, keyPath string) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	return writeFiles(map[string][]byte{
		certPath: pemEncode("CERTIFICATE", der),
		keyPath:  pemEncode("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key)),
	})
}

func pemEncode(kind string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
}

func writeFiles(files map[string][]byte) error {
	for path, data := range files {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return err
		}
	}
	return nil
}
