package mcpserver

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"

	"go.uber.org/zap"

	"github.com/ocm-fleet/multicluster-mcp-server/auth"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/fakehub"
)

// pinned is a clock that does not move, so rate limits never refill during a test: counts are exact.
func pinned() time.Time { return time.Unix(1e9, 0) }

// guardedServer serves an always-OK endpoint behind the guard, with the real Authenticator asking a fake
// hub that counts TokenReviews.
func guardedServer(t *testing.T, o GuardOptions) (*httptest.Server, *fakehub.Hub) {
	t.Helper()
	hub := &fakehub.Hub{Tokens: map[string]fakehub.Token{"good": {User: authenticationv1.UserInfo{Username: "alice", UID: "a1"}}}}
	o.Authenticator = auth.NewAuthenticator(hub.Start(t), auth.AuthenticatorOptions{})
	o.Now = pinned
	g := newGuard(o, zap.NewNop())
	srv := httptest.NewServer(g.wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })))
	t.Cleanup(srv.Close)
	return srv, hub
}

type reply struct {
	code       int
	retryAfter string
	body       string
}

func send(t *testing.T, url string, headers map[string]string) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header.Get("Retry-After"), string(b)}
}

// flood sends n requests from 8 workers at once and counts the answers by status.
func flood(t *testing.T, url string, n int, headers func(i int) map[string]string) map[int]int {
	t.Helper()
	var mu sync.Mutex
	codes := map[int]int{}
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r := send(t, url, headers(i))
				if r.code == http.StatusTooManyRequests {
					if s, err := strconv.Atoi(r.retryAfter); err != nil || s < 1 {
						t.Errorf("429 without a usable Retry-After: %q", r.retryAfter)
					}
				}
				mu.Lock()
				codes[r.code]++
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	return codes
}

// TestUnauthenticatedFloodIsThrottledPerAddress: a flood of made-up tokens from one address costs the
// hub exactly the burst in TokenReviews, then meets 429 with Retry-After; a caller whose token is known
// is not held up, and another address has its own budget.
func TestUnauthenticatedFloodIsThrottledPerAddress(t *testing.T) {
	const burst, n = 5, 300
	srv, hub := guardedServer(t, GuardOptions{AuthRatePerSecond: 1, AuthBurst: burst,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	from := func(addr, token string) map[string]string {
		return map[string]string{"Authorization": "Bearer " + token, "X-Forwarded-For": addr}
	}
	if r := send(t, srv.URL, from("192.0.2.1", "good")); r.code != http.StatusOK {
		t.Fatalf("good token: %+v", r)
	}
	codes := flood(t, srv.URL, n, func(i int) map[string]string { return from("192.0.2.1", fmt.Sprintf("made-up-%d", i)) })
	if codes[http.StatusUnauthorized] != burst-1 || codes[http.StatusTooManyRequests] != n-burst+1 {
		t.Errorf("answers %v; want %d x 401 (the burst, less the good token's review) and the rest 429", codes, burst-1)
	}
	if got := hub.TokenReviews(); got != burst {
		t.Errorf("the flood of %d requests cost the hub %d TokenReviews; want %d (the burst)", n, got, burst)
	}
	t.Logf("%d made-up tokens from one address: %d TokenReviews, answers %v", n, hub.TokenReviews(), codes)
	if r := send(t, srv.URL, from("192.0.2.1", "good")); r.code != http.StatusOK {
		t.Errorf("a known token from the flooding address was held up: %+v", r)
	}
	if r := send(t, srv.URL, from("198.51.100.7", "made-up-x")); r.code != http.StatusUnauthorized {
		t.Errorf("another address shares the flooder's budget: %+v", r)
	}
	if r := send(t, srv.URL, from("192.0.2.1", "made-up-0")); r.code != http.StatusTooManyRequests || !strings.Contains(r.body, "wait, then retry") {
		t.Errorf("throttled answer: %+v", r)
	}
}

// TestFailuresWithoutReviewsCountToo: requests with no token, or a token the hub already rejected, cost
// no review but still meet 429 after the burst.
func TestFailuresWithoutReviewsCountToo(t *testing.T) {
	const burst, n = 4, 50
	tests := []struct {
		name    string
		headers map[string]string
	}{
		{"no token", nil},
		{"the same rejected token", map[string]string{"Authorization": "Bearer made-up"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, hub := guardedServer(t, GuardOptions{AuthRatePerSecond: 1, AuthBurst: burst})
			codes := flood(t, srv.URL, n, func(int) map[string]string { return tc.headers })
			if codes[http.StatusUnauthorized] != burst || codes[http.StatusTooManyRequests] != n-burst {
				t.Errorf("answers %v; want %d x 401, then 429", codes, burst)
			}
			if hub.TokenReviews() > 1 { // concurrent requests with one token share a review
				t.Errorf("%d TokenReviews", hub.TokenReviews())
			}
		})
	}
}

// TestForwardedForIsIgnoredUnlessTrusted: by default X-Forwarded-For is the client's word and changes
// nothing: rotating it does not buy a fresh budget.
func TestForwardedForIsIgnoredUnlessTrusted(t *testing.T) {
	const burst, n = 3, 40
	srv, hub := guardedServer(t, GuardOptions{AuthRatePerSecond: 1, AuthBurst: burst})
	codes := flood(t, srv.URL, n, func(i int) map[string]string {
		return map[string]string{"Authorization": fmt.Sprintf("Bearer made-up-%d", i), "X-Forwarded-For": fmt.Sprintf("203.0.113.%d", i)}
	})
	if hub.TokenReviews() != burst || codes[http.StatusTooManyRequests] != n-burst {
		t.Errorf("rotating X-Forwarded-For: %d TokenReviews, answers %v; want %d reviews", hub.TokenReviews(), codes, burst)
	}
}

func TestClientAddress(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.10/32"), netip.MustParsePrefix("fd00::/8")}
	tests := []struct {
		name    string
		trusted []netip.Prefix
		remote  string
		xff     []string
		want    string
	}{
		{"peer", nil, "198.51.100.7:5000", nil, "198.51.100.7"},
		{"forwarded-for from an untrusted peer is ignored", nil, "198.51.100.7:5000", []string{"203.0.113.9"}, "198.51.100.7"},
		{"from a trusted proxy", proxies, "10.1.2.3:443", []string{"203.0.113.9"}, "203.0.113.9"},
		{"the client's own entries left of the first untrusted hop are ignored", proxies, "10.1.2.3:443", []string{"1.1.1.1, 203.0.113.9, 10.9.9.9"}, "203.0.113.9"},
		{"several headers", proxies, "10.1.2.3:443", []string{"1.1.1.1", "203.0.113.9"}, "203.0.113.9"},
		{"a made-up entry stops the walk", proxies, "10.1.2.3:443", []string{"203.0.113.9, not-an-ip"}, "10.1.2.3"},
		{"an entry with a port", proxies, "192.0.2.10:443", []string{"203.0.113.9:1234"}, "203.0.113.9"},
		{"only proxies", proxies, "10.1.2.3:443", []string{"10.0.0.1"}, "10.0.0.1"},
		{"IPv6 counts per /64", nil, "[2001:db8:1:2:3:4:5:6]:443", nil, "2001:db8:1:2::/64"},
		{"IPv4-mapped IPv6", nil, "[::ffff:198.51.100.7]:443", nil, "198.51.100.7"},
		{"trusted IPv6 proxy", proxies, "[fd00::1]:443", []string{"2001:db8::99"}, "2001:db8::/64"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newGuard(GuardOptions{TrustedProxies: tc.trusted}, zap.NewNop())
			r := httptest.NewRequest(http.MethodPost, "/mcp", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := g.clientAddress(r); got != tc.want {
				t.Errorf("client %q, want %q", got, tc.want)
			}
		})
	}
}

// TestWrongAudienceSaysWhatToDo: a token the hub does not accept for the server's audience is refused with
// a message that names the audience and how to get a token for it, whether the hub refuses it (an
// audience-aware hub) or accepts it without naming the audience (one that is not).
func TestWrongAudienceSaysWhatToDo(t *testing.T) {
	for _, ignore := range []bool{false, true} {
		t.Run(fmt.Sprintf("hub ignores audiences: %v", ignore), func(t *testing.T) {
			hub := &fakehub.Hub{Tokens: map[string]fakehub.Token{"api-token": {User: authenticationv1.UserInfo{Username: "alice"}}}, IgnoreAudiences: ignore}
			g := newGuard(GuardOptions{Audiences: []string{"mcp"},
				Authenticator: auth.NewAuthenticator(hub.Start(t), auth.AuthenticatorOptions{Audiences: []string{"mcp"}})}, zap.NewNop())
			srv := httptest.NewServer(g.wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("a wrong-audience token got through") })))
			defer srv.Close()
			r := send(t, srv.URL, map[string]string{"Authorization": "Bearer api-token"})
			if r.code != http.StatusUnauthorized || !strings.Contains(r.body, "audience mcp") || !strings.Contains(r.body, "--audience") {
				t.Errorf("%+v", r)
			}
		})
	}
}

// TestConcurrentRequestsWithANewTokenCostOneReview: a client that opens many requests at once with a token
// the server has not seen yet is charged once, for the one review they share, not held up by its own
// budget.
func TestConcurrentRequestsWithANewTokenCostOneReview(t *testing.T) {
	const n = 40
	srv, hub := guardedServer(t, GuardOptions{AuthRatePerSecond: 1, AuthBurst: 1})
	codes := flood(t, srv.URL, n, func(int) map[string]string { return map[string]string{"Authorization": "Bearer good"} })
	if codes[http.StatusOK] != n || hub.TokenReviews() != 1 {
		t.Errorf("answers %v, %d TokenReviews; want %d x 200 and one review", codes, hub.TokenReviews(), n)
	}
}
