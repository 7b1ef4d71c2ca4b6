// Package approval decides which changes need a person's approval (the autonomy level) and issues the
// one-time approvals of the two-step flow: a preview returns a token bound to the caller, the cluster,
// the command, the manifest's digest and the state of the objects it would change (their content
// fingerprints: everything but status, which controllers update all the time), valid for a short time
// and once.
package approval

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// Mode is the autonomy level: which changes wait for approval.
type Mode string

// The autonomy levels.
const (
	// All: every change is approved first.
	All Mode = "all"
	// Destructive: deletes, drains, cordons, taints, replaces, rollbacks and scaling to zero are
	// approved first; other changes run at once.
	Destructive Mode = "destructive"
	// None: changes within policy run at once.
	None Mode = "none"
)

// DefaultTTL is how long an approval lasts unless configured.
const DefaultTTL = 10 * time.Minute

// Modes lists the levels, most careful first.
func Modes() []string { return []string{string(All), string(Destructive), string(None)} }

// ParseMode reads a level.
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case All, Destructive, None:
		return Mode(s), nil
	}
	return "", fmt.Errorf("%q is not an approval level: use %s", s, strings.Join(Modes(), ", "))
}

// Requires says whether a change needs approval at this level.
func (m Mode) Requires(destructive bool) bool {
	switch m {
	case None:
		return false
	case Destructive:
		return destructive
	}
	return true
}

// Binding is what an approval is for.
type Binding struct {
	Caller   string
	Cluster  string
	Command  []string // the command's words, as parsed
	Manifest string   // only its digest is kept
}

// digest is a fixed-length summary of the binding; fields are length-prefixed so that no two bindings
// share one.
func (b Binding) digest() []byte {
	h := sha256.New()
	put := func(s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	put(b.Caller)
	put(b.Cluster)
	put(fmt.Sprint(len(b.Command)))
	for _, w := range b.Command {
		put(w)
	}
	m := sha256.Sum256([]byte(b.Manifest))
	put(hex.EncodeToString(m[:]))
	return h.Sum(nil)
}

// Errors of Redeem.
var (
	ErrInvalid = errors.New("this approval is not for this call (it was issued for another caller, cluster, command or manifest, or was altered): preview again")
	ErrExpired = errors.New("this approval has expired: preview again")
	ErrUsed    = errors.New("this approval was already used: preview again")
	ErrChanged = errors.New("the objects changed since the preview: preview again")
	ErrFull    = errors.New("too many approvals are in use at once: try again in a minute")
)

// payload is the signed part of a token.
type payload struct {
	Expires  int64             `json:"e"`
	Nonce    string            `json:"n"`
	Versions map[string]string `json:"v,omitempty"`
}

// Store issues and redeems approvals with a key made at start: a restart voids every approval.
type Store struct {
	key     []byte
	ttl     time.Duration
	maxUsed int
	now     func() time.Time

	mu   sync.Mutex
	used map[string]time.Time // nonce -> expiry, until it passes
}

// NewStore makes a store whose approvals last ttl; at most maxUsed used approvals are remembered until
// they expire (beyond that, redeeming waits for room).
func NewStore(ttl time.Duration, maxUsed int, now func() time.Time) (*Store, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	if maxUsed <= 0 {
		maxUsed = 10000
	}
	return &Store{key: key, ttl: ttl, maxUsed: maxUsed, now: now, used: map[string]time.Time{}}, nil
}

// ShareKey makes the store's approvals valid on every replica that derives its key from the same
// shared secret (the session key): a preview answered by one replica is approved on another. Each
// replica remembers the approvals it redeemed; the objects' fingerprints in every approval keep one
// redeemed on a replica from running again once the change has been made.
func (s *Store) ShareKey(secret []byte) {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("multicluster-mcp-server approvals"))
	s.key = m.Sum(nil)
}

// TTL is how long an approval lasts.
func (s *Store) TTL() time.Duration { return s.ttl }

// Issue returns an approval for b, bound to the objects' fingerprints (by API path).
func (s *Store) Issue(b Binding, versions map[string]string) (string, error) {
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	p, err := json.Marshal(payload{Expires: s.now().Add(s.ttl).Unix(), Nonce: hex.EncodeToString(nonce), Versions: versions})
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString(p) + "." + enc.EncodeToString(s.mac(b, p)), nil
}

func (s *Store) mac(b Binding, p []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write(b.digest())
	m.Write(p)
	return m.Sum(nil)
}

// Approved is a checked, not yet used, approval.
type Approved struct {
	nonce   string
	expires time.Time
	// Versions are the objects' fingerprints at the preview, by API path.
	Versions map[string]string
}

// Check verifies that token approves b and is neither expired nor used; it does not use it.
func (s *Store) Check(token string, b Binding) (*Approved, error) {
	enc := base64.RawURLEncoding
	ps, ms, ok := strings.Cut(strings.TrimSpace(token), ".")
	if !ok {
		return nil, ErrInvalid
	}
	p, err1 := enc.DecodeString(ps)
	m, err2 := enc.DecodeString(ms)
	if err1 != nil || err2 != nil || !hmac.Equal(m, s.mac(b, p)) {
		return nil, ErrInvalid
	}
	var pl payload
	if err := json.Unmarshal(p, &pl); err != nil || pl.Nonce == "" {
		return nil, ErrInvalid
	}
	expires := time.Unix(pl.Expires, 0)
	if !s.now().Before(expires) {
		return nil, ErrExpired
	}
	s.mu.Lock()
	_, used := s.used[pl.Nonce]
	s.mu.Unlock()
	if used {
		return nil, ErrUsed
	}
	return &Approved{nonce: pl.Nonce, expires: expires, Versions: pl.Versions}, nil
}

// Use spends an approval: of two calls presenting the same one, only the first gets nil.
func (s *Store) Use(a *Approved) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if !now.Before(a.expires) {
		return ErrExpired
	}
	if _, used := s.used[a.nonce]; used {
		return ErrUsed
	}
	if len(s.used) >= s.maxUsed {
		for n, exp := range s.used {
			if !now.Before(exp) {
				delete(s.used, n)
			}
		}
		if len(s.used) >= s.maxUsed {
			return ErrFull
		}
	}
	s.used[a.nonce] = a.expires
	return nil
}

// Same says whether the versions now are those of the preview; else it names what changed.
func Same(then, now map[string]string) (bool, string) {
	var diffs []string
	for p, v := range then {
		if w, ok := now[p]; !ok {
			diffs = append(diffs, p+" is no longer changed by the command")
		} else if w != v {
			diffs = append(diffs, p+" changed")
		}
	}
	for p := range now {
		if _, ok := then[p]; !ok {
			diffs = append(diffs, p+" is now changed by the command too")
		}
	}
	sort.Strings(diffs)
	return len(diffs) == 0, strings.Join(diffs, "; ")
}
