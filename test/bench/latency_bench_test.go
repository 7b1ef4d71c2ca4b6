package bench

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"
)

// latencyProxies stand for many clusters in front of one real API server: each listens on a loopback
// address of its own (127.10.x.y), so that the server under test holds one connection per cluster as it
// would to real spokes, and holds every request for a fixed delay before passing it on. What is simulated:
// the round-trip time of each HTTP request to a distant spoke. What is not: slow TLS handshakes (one per
// connection, made before timing), bandwidth, and the spokes' own load (every answer comes from the same
// kube-apiserver, which serves them concurrently).
type latencyProxies struct {
	ca    []byte // PEM of the CA that signed the proxies' certificates
	urls  []string
	close []func()
	// requests counts the requests the proxies were sent, by method and path, so that a benchmark
	// reports how many round trips one call costs.
	mu       sync.Mutex
	requests map[string]int
}

// takeRequests returns the requests counted since the last call, by method and path, and their total.
func (p *latencyProxies) takeRequests() (map[string]int, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	out, total := p.requests, 0
	for _, n := range out {
		total += n
	}
	p.requests = map[string]int{}
	return out, total
}

// startLatencyProxies starts n proxies in front of target (an https URL whose certificate targetCA
// verifies), each adding delay to every request.
func startLatencyProxies(b *testing.B, n int, target string, targetCA []byte, delay time.Duration) *latencyProxies {
	b.Helper()
	up, err := url.Parse(target)
	if err != nil {
		b.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(targetCA) {
		b.Fatal("no CA certificate for the target")
	}
	upstream := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true,
		MaxIdleConnsPerHost: 64, IdleConnTimeout: time.Minute}
	caKey, caCert, caPEM := newCA(b)
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	p := &latencyProxies{ca: caPEM, requests: map[string]int{}} // stopped by TestMain
	for i := range n {
		ip := net.IPv4(127, 10, byte(i/250), byte(i%250+1))
		// A fixed port: the ManagedClusters registered for the proxies keep their URLs.
		ln, err := net.Listen("tcp", net.JoinHostPort(ip.String(), "16443"))
		if err != nil {
			b.Fatal(err)
		}
		cert := leafCert(b, caKey, caCert, leafKey, ip)
		rp := httputil.NewSingleHostReverseProxy(up)
		rp.Transport = upstream
		srv := &http.Server{
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				p.mu.Lock()
				p.requests[r.Method+" "+r.URL.Path]++
				p.mu.Unlock()
				t := time.NewTimer(delay)
				defer t.Stop()
				select {
				case <-t.C:
				case <-r.Context().Done():
					return
				}
				rp.ServeHTTP(w, r)
			}),
			TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}},
			ReadHeaderTimeout: 30 * time.Second,
		}
		go func() { _ = srv.ServeTLS(ln, "", "") }()
		p.urls = append(p.urls, "https://"+ln.Addr().String())
		p.close = append(p.close, func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(ctx)
		})
	}
	return p
}

func (p *latencyProxies) stop() {
	for _, c := range p.close {
		c()
	}
	p.close = nil
}

func newCA(b *testing.B) (*ecdsa.PrivateKey, *x509.Certificate, []byte) {
	b.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bench latency proxies"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		b.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		b.Fatal(err)
	}
	return key, cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func leafCert(b *testing.B, caKey *ecdsa.PrivateKey, ca *x509.Certificate, key *ecdsa.PrivateKey, ip net.IP) tls.Certificate {
	b.Helper()
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		b.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: ip.String()}, IPAddresses: []net.IP{ip},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		b.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// names lists prefix-000 ... for n clusters.
func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%04d", prefix, i)
	}
	return out
}
