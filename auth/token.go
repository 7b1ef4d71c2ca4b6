package auth

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Keys of the ManagedServiceAccount token Secret on the hub.
const (
	tokenKey = "token"
	caKey    = "ca.crt"
)

// tokenSource holds one cluster's ManagedServiceAccount token, in memory only. It re-reads the hub
// Secret when its copy is older than recheck (so a rotated token is picked up without a restart) and on
// demand after a 401. A token used when it is past half of recheck is read again in the background, so
// that a cluster in steady use never waits for the hub: a fan-out over thousands of clusters would
// otherwise queue thousands of Secret reads behind the hub client's rate limit.
type tokenSource struct {
	hub       kubernetes.Interface
	namespace string // the cluster namespace on the hub
	name      string // the Secret name (= the ManagedServiceAccount name)
	recheck   time.Duration
	timeout   time.Duration

	mu      sync.Mutex
	token   string
	ca      []byte
	version string // Secret resourceVersion the token came from
	fetched time.Time
	// ahead is set while a background read runs (one at a time); background counts them, for tests.
	ahead      bool
	background sync.WaitGroup
}

// current returns the token, refreshing it when stale, and in the background when it is getting old.
func (s *tokenSource) current(ctx context.Context) (string, error) {
	s.mu.Lock()
	age := time.Since(s.fetched)
	fresh := s.token != "" && age < s.recheck
	tok := s.token
	early := fresh && age >= s.recheck/2 && !s.ahead
	if early {
		s.ahead = true
		s.background.Add(1)
	}
	s.mu.Unlock()
	if early {
		// Bounded by the hub timeout (refresh sets it); a failure leaves the token as it was, and the call
		// that finds it stale reads the Secret itself.
		go func() {
			defer s.background.Done()
			_ = s.refresh(context.Background())
			s.mu.Lock()
			s.ahead = false
			s.mu.Unlock()
		}()
	}
	if fresh {
		return tok, nil
	}
	if err := s.refresh(ctx); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token, nil
}

// refresh reads the Secret from the hub. It reports whether the token changed.
func (s *tokenSource) refresh(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	sec, err := s.hub.CoreV1().Secrets(s.namespace).Get(ctx, s.name, metav1.GetOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("token Secret %s/%s is gone from the hub: the ManagedServiceAccount may have been deleted", s.namespace, s.name)
		}
		return fmt.Errorf("reading token Secret %s/%s on the hub: %w", s.namespace, s.name, err)
	}
	return s.set(sec)
}

// set takes the token from a copy of the Secret just read.
func (s *tokenSource) set(sec *corev1.Secret) error {
	tok := string(sec.Data[tokenKey])
	if tok == "" {
		return fmt.Errorf("token Secret %s/%s on the hub has no %q key", s.namespace, s.name, tokenKey)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token, s.ca, s.version, s.fetched = tok, sec.Data[caKey], sec.ResourceVersion, time.Now()
	return nil
}

// invalidate forces the next current() to re-read the Secret.
func (s *tokenSource) invalidate() {
	s.mu.Lock()
	s.fetched = time.Time{}
	s.mu.Unlock()
}

// tokenTransport adds the bearer token to each request and, on a 401, re-reads the Secret and retries
// once with the new token. The token never appears in the rest.Config, so it cannot leak through it.
type tokenTransport struct {
	src  *tokenSource
	next http.RoundTripper
}

func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := t.src.current(req.Context())
	if err != nil {
		return nil, err
	}
	resp, err := t.next.RoundTrip(withToken(req, tok))
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	// The token may have been rotated or revoked: read the Secret again and retry once if it changed
	// and the request can be replayed.
	t.src.invalidate()
	fresh, ferr := t.src.current(req.Context())
	if ferr != nil || fresh == tok || (req.Body != nil && req.GetBody == nil) {
		return resp, err
	}
	retry := withToken(req, fresh)
	if req.GetBody != nil {
		body, berr := req.GetBody()
		if berr != nil {
			return resp, err
		}
		retry.Body = body
	}
	resp.Body.Close()
	return t.next.RoundTrip(retry)
}

func withToken(req *http.Request, token string) *http.Request {
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

func isNotFound(err error) bool { return apierrors.IsNotFound(err) }
