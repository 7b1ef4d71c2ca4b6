package approval

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestModes(t *testing.T) {
	for _, tc := range []struct {
		mode               string
		plain, destructive bool
		wantErr            bool
	}{
		{"all", true, true, false},
		{"destructive", false, true, false},
		{"none", false, false, false},
		{"some", false, false, true},
		{"", false, false, true},
	} {
		m, err := ParseMode(tc.mode)
		if (err != nil) != tc.wantErr {
			t.Fatalf("%q: %v", tc.mode, err)
		}
		if err != nil {
			continue
		}
		if m.Requires(false) != tc.plain || m.Requires(true) != tc.destructive {
			t.Errorf("%s: requires(plain)=%v requires(destructive)=%v", tc.mode, m.Requires(false), m.Requires(true))
		}
	}
}

func TestApprovals(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	s, err := NewStore(10*time.Minute, 0, clock)
	if err != nil {
		t.Fatal(err)
	}
	b := Binding{Caller: "alice", Cluster: "spoke1", Command: []string{"scale", "deploy/web", "--replicas=3"}, Manifest: ""}
	versions := map[string]string{"/apis/apps/v1/namespaces/shop/deployments/web/scale": "42"}
	tok, err := s.Issue(b, versions)
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewStore(10*time.Minute, 0, clock)
	if err != nil {
		t.Fatal(err)
	}
	altered := func(f func(*Binding)) Binding {
		c := b
		c.Command = append([]string(nil), b.Command...)
		f(&c)
		return c
	}
	for _, tc := range []struct {
		name  string
		store *Store
		token string
		b     Binding
		want  error
	}{
		{"another caller", s, tok, altered(func(c *Binding) { c.Caller = "bob" }), ErrInvalid},
		{"another cluster", s, tok, altered(func(c *Binding) { c.Cluster = "spoke2" }), ErrInvalid},
		{"another command", s, tok, altered(func(c *Binding) { c.Command[2] = "--replicas=4" }), ErrInvalid},
		{"words joined differently", s, tok, altered(func(c *Binding) { c.Command = []string{"scale", "deploy/web --replicas=3"} }), ErrInvalid},
		{"another manifest", s, tok, altered(func(c *Binding) { c.Manifest = "kind: x" }), ErrInvalid},
		{"another server", other, tok, b, ErrInvalid},
		{"garbage", s, "abc", b, ErrInvalid},
		{"altered payload", s, "e30" + tok[strings.Index(tok, "."):], b, ErrInvalid},
	} {
		if _, err := tc.store.Check(tc.token, tc.b); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	a, err := s.Check(tok, b)
	if err != nil {
		t.Fatal(err)
	}
	if a.Versions["/apis/apps/v1/namespaces/shop/deployments/web/scale"] != "42" {
		t.Errorf("versions: %v", a.Versions)
	}
	// Two calls with the same approval: one wins.
	var wg sync.WaitGroup
	wins := make(chan struct{}, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if s.Use(a) == nil {
				wins <- struct{}{}
			}
		}()
	}
	wg.Wait()
	if len(wins) != 1 {
		t.Errorf("%d calls used one approval", len(wins))
	}
	if _, err := s.Check(tok, b); !errors.Is(err, ErrUsed) {
		t.Errorf("used: %v", err)
	}
	tok2, _ := s.Issue(b, versions)
	now = now.Add(11 * time.Minute)
	if _, err := s.Check(tok2, b); !errors.Is(err, ErrExpired) {
		t.Errorf("expired: %v", err)
	}
}

func TestUsedSetIsBounded(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s, _ := NewStore(time.Minute, 2, func() time.Time { return now })
	b := Binding{Caller: "a", Cluster: "c", Command: []string{"label", "ns", "x", "a=b"}}
	use := func() error {
		tok, _ := s.Issue(b, nil)
		a, err := s.Check(tok, b)
		if err != nil {
			return err
		}
		return s.Use(a)
	}
	for range 2 {
		if err := use(); err != nil {
			t.Fatal(err)
		}
	}
	if err := use(); !errors.Is(err, ErrFull) {
		t.Errorf("third: %v", err)
	}
	now = now.Add(2 * time.Minute) // the first two expire and make room
	if err := use(); err != nil {
		t.Errorf("after expiry: %v", err)
	}
}

func TestSame(t *testing.T) {
	for _, tc := range []struct {
		then, now map[string]string
		same      bool
		says      string
	}{
		{map[string]string{"a": "1"}, map[string]string{"a": "1"}, true, ""},
		{map[string]string{"a": "1"}, map[string]string{"a": "2"}, false, "a changed"},
		{map[string]string{"a": ""}, map[string]string{"a": "5"}, false, "a changed"},
		{map[string]string{"a": "1"}, map[string]string{}, false, "no longer"},
		{map[string]string{}, map[string]string{"b": "1"}, false, "now changed"},
	} {
		same, says := Same(tc.then, tc.now)
		if same != tc.same || !strings.Contains(says, tc.says) {
			t.Errorf("%v -> %v: %v %q", tc.then, tc.now, same, says)
		}
	}
}

// Replicas that share a key approve each other's previews; a replica with its own key does not.
func TestSharedKeyAcrossReplicas(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	a, _ := NewStore(time.Minute, 0, nil)
	b, _ := NewStore(time.Minute, 0, nil)
	alone, _ := NewStore(time.Minute, 0, nil)
	a.ShareKey(secret)
	b.ShareKey(append([]byte(nil), secret...))
	bind := Binding{Caller: "alice", Cluster: "spoke1", Command: []string{"scale", "deployment/web", "--replicas=2"}}
	token, err := a.Issue(bind, map[string]string{"/apis/apps/v1/namespaces/shop/deployments/web": "f1"})
	if err != nil {
		t.Fatal(err)
	}
	ok, err := b.Check(token, bind)
	if err != nil || ok == nil {
		t.Fatalf("the other replica refuses the approval: %v", err)
	}
	if err := b.Use(ok); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Check(token, bind); err == nil {
		t.Error("an approval redeemed on a replica is accepted there again")
	}
	if _, err := alone.Check(token, bind); err == nil {
		t.Error("a replica with its own key accepts another's approval")
	}
}
