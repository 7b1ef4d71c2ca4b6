package auth

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// TestTokenIsReadAgainAheadOfTime: a token younger than half the recheck interval is used as it is; one
// older is used at once and read again in the background; one older than the interval is read before it
// is used. A background read that fails leaves the token as it was.
func TestTokenIsReadAgainAheadOfTime(t *testing.T) {
	const recheck = time.Hour
	cases := []struct {
		name      string
		age       time.Duration
		hubFails  bool
		wantNow   string // the token current returns
		wantAfter string // the token held once background reads are done
		wantReads int32
		wantFresh bool // whether the token counts as just read afterwards
	}{
		{"young", 10 * time.Minute, false, "old", "old", 0, false},
		{"past half the interval", 40 * time.Minute, false, "old", "new", 1, true},
		{"past half, hub down", 40 * time.Minute, true, "old", "old", 1, false},
		{"stale", 2 * time.Hour, false, "new", "new", 1, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hub := fake.NewClientset(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: DefaultMSAName, Namespace: "c1", ResourceVersion: "2"},
				Data: map[string][]byte{tokenKey: []byte("new")}})
			var reads atomic.Int32
			hub.PrependReactor("get", "secrets", func(k8stesting.Action) (bool, runtime.Object, error) {
				reads.Add(1)
				if tc.hubFails {
					return true, nil, errors.New("hub down")
				}
				return false, nil, nil
			})
			fetched := time.Now().Add(-tc.age)
			s := &tokenSource{hub: hub, namespace: "c1", name: DefaultMSAName, recheck: recheck, timeout: 5 * time.Second,
				token: "old", fetched: fetched}
			got, err := s.current(context.Background())
			if err != nil || got != tc.wantNow {
				t.Fatalf("current = %q, %v; want %q", got, err, tc.wantNow)
			}
			s.background.Wait()
			s.mu.Lock()
			after, justRead := s.token, s.fetched.After(fetched.Add(tc.age/2))
			s.mu.Unlock()
			if after != tc.wantAfter || reads.Load() != tc.wantReads || justRead != tc.wantFresh {
				t.Errorf("afterwards: token %q, %d hub reads, just read %v; want %q, %d, %v", after, reads.Load(), justRead, tc.wantAfter, tc.wantReads, tc.wantFresh)
			}
			// A second use while the token is young again (or a read is under way) reads nothing more.
			if _, err := s.current(context.Background()); err != nil {
				t.Fatal(err)
			}
			s.background.Wait()
			if extra := reads.Load() - tc.wantReads; tc.wantFresh && extra != 0 {
				t.Errorf("a use right after a read read the Secret %d more time(s)", extra)
			}
		})
	}
}
