package mcpserver

import (
	"container/list"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"strings"
	"sync"

	"github.com/mark3labs/mcp-go/server"

	"github.com/ocm-fleet/multicluster-mcp-server/auth"
)

// A session belongs to whoever opened it. Its id travels in the clear (a URL query for SSE, a header for
// Streamable HTTP) and may leak into logs or proxies; it is not a credential. Every request that names a
// session must come from the identity that opened it, else the session is "unknown": the answer is the
// same whether it exists or not.

// owner is who opened a session: the authenticated user and UID ("" for both without authentication).
type owner struct{ user, uid string }

func ownerOf(ctx context.Context) owner {
	if c := auth.CallerFrom(ctx); c != nil {
		return owner{user: c.User, uid: c.UID}
	}
	return owner{}
}

// sessionPrefix starts every session id (mcp-go checks it).
const sessionPrefix = "mcp-session-"

func newSessionID() string { return sessionPrefix + rand.Text() }

// mac binds a stateless session's nonce to its owner (fields length-prefixed, so that no two owners
// share one).
func (s *streamableSessions) mac(nonce string, o owner) string {
	h := hmac.New(sha256.New, s.key)
	for _, f := range []string{nonce, o.user, o.uid} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.Write([]byte(f))
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

const unknownSession = "unknown MCP session: it ended, the server restarted, or it was opened by someone else; start a new session"

// Bounds of the Streamable HTTP session table. Sessions there have no end the server sees (clients rarely
// send DELETE), so the least recently used go first, and one identity cannot push out everyone else's.
const (
	maxStreamableSessions = 10000
	maxSessionsPerOwner   = 100
)

// streamableSessions binds Streamable HTTP session ids (Mcp-Session-Id) to their owners. It is the
// session id manager of mcp-go's Streamable HTTP server, resolved per request with the request's caller,
// and it guards the endpoint, so that no request reaches mcp-go's per-session state (log level, streams,
// pending sampling answers, termination) with a session that is not the caller's.
type streamableSessions struct {
	// key, when set, makes sessions stateless: an id carries its owner's MAC under the key, so every
	// replica that holds the key checks it without a table, and any of them serves any request.
	key []byte

	mu       sync.Mutex
	max      int
	perOwner int
	lru      *list.List // of *streamableSession, least recently used first
	byID     map[string]*list.Element
	count    map[owner]int
}

type streamableSession struct {
	id    string
	owner owner
}

func newStreamableSessions(maxTotal, perOwner int) *streamableSessions {
	return &streamableSessions{max: maxTotal, perOwner: perOwner, lru: list.New(), byID: map[string]*list.Element{}, count: map[owner]int{}}
}

// open makes a session for o.
func (s *streamableSessions) open(o owner) string {
	if s.key != nil {
		nonce := rand.Text()
		return sessionPrefix + nonce + "." + s.mac(nonce, o)
	}
	id := newSessionID()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.count[o] >= s.perOwner {
		for e := s.lru.Front(); e != nil; e = e.Next() {
			if e.Value.(*streamableSession).owner == o {
				s.remove(e)
				break
			}
		}
	}
	for s.lru.Len() >= s.max {
		s.remove(s.lru.Front())
	}
	s.byID[id] = s.lru.PushBack(&streamableSession{id: id, owner: o})
	s.count[o]++
	return id
}

// owned reports whether the session exists and is o's, and marks it used.
func (s *streamableSessions) owned(id string, o owner) bool {
	if s.key != nil {
		nonce, sum, ok := strings.Cut(strings.TrimPrefix(id, sessionPrefix), ".")
		return ok && strings.HasPrefix(id, sessionPrefix) && hmac.Equal([]byte(sum), []byte(s.mac(nonce, o)))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.byID[id]
	if !ok || e.Value.(*streamableSession).owner != o {
		return false
	}
	s.lru.MoveToBack(e)
	return true
}

// close ends o's session; someone else's is left alone. A stateless session has nothing to end: its
// id stays valid for its owner, on every replica.
func (s *streamableSessions) close(id string, o owner) {
	if s.key != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.byID[id]; ok && e.Value.(*streamableSession).owner == o {
		s.remove(e)
	}
}

func (s *streamableSessions) remove(e *list.Element) {
	ss := s.lru.Remove(e).(*streamableSession)
	delete(s.byID, ss.id)
	if s.count[ss.owner]--; s.count[ss.owner] <= 0 {
		delete(s.count, ss.owner)
	}
}

// ResolveSessionIdManager gives mcp-go a manager bound to the request's caller.
func (s *streamableSessions) ResolveSessionIdManager(r *http.Request) server.SessionIdManager {
	m := &ownedSessionIDs{s: s}
	if r != nil {
		m.owner = ownerOf(r.Context())
	} else {
		m.nobody = true // no request (mcp-go's idle sweeper): there is no caller to own anything
	}
	return m
}

type ownedSessionIDs struct {
	s      *streamableSessions
	owner  owner
	nobody bool
}

func (m *ownedSessionIDs) Generate() string { return m.s.open(m.owner) }

func (m *ownedSessionIDs) Validate(id string) (bool, error) {
	if m.nobody || !m.s.owned(id, m.owner) {
		return false, errUnknownSession
	}
	return false, nil
}

func (m *ownedSessionIDs) Terminate(id string) (bool, error) {
	if !m.nobody {
		m.s.close(id, m.owner)
	}
	return false, nil
}

type sessionError string

func (e sessionError) Error() string { return string(e) }

const errUnknownSession = sessionError(unknownSession)

// guard answers 404 to a request that names a session that is not the caller's, before mcp-go sees it
// (mcp-go does not check the session of a GET, and a DELETE would end it).
func (s *streamableSessions) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := r.Header.Get(server.HeaderKeySessionID); id != "" && !s.owned(id, ownerOf(r.Context())) {
			httpError(w, http.StatusNotFound, "unknown_session", unknownSession)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// sseSessions binds legacy SSE session ids to the identity that opened the stream, for as long as the
// stream is open: a POST to the message endpoint must come from the same identity.
type sseSessions struct {
	mu     sync.Mutex
	owners map[string]owner
}

func newSSESessions() *sseSessions { return &sseSessions{owners: map[string]owner{}} }

type sseOpening struct{ id string }

type sseOpeningKey struct{}

// generate is mcp-go's session id generator: it binds the new id to the caller who opens the stream.
func (s *sseSessions) generate(_ context.Context, r *http.Request) (string, error) {
	id := newSessionID()
	s.mu.Lock()
	s.owners[id] = ownerOf(r.Context())
	s.mu.Unlock()
	if o, ok := r.Context().Value(sseOpeningKey{}).(*sseOpening); ok {
		o.id = id
	}
	return id, nil
}

// stream wraps the SSE endpoint: when the stream ends, so does the binding.
func (s *sseSessions) stream(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o := &sseOpening{}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sseOpeningKey{}, o)))
		if o.id != "" {
			s.mu.Lock()
			delete(s.owners, o.id)
			s.mu.Unlock()
		}
	})
}

// messages wraps the message endpoint: the session must be open and the caller's.
func (s *sseSessions) messages(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("sessionId")
		s.mu.Lock()
		o, ok := s.owners[id]
		s.mu.Unlock()
		if !ok || o != ownerOf(r.Context()) {
			httpError(w, http.StatusNotFound, "unknown_session", unknownSession)
			return
		}
		next.ServeHTTP(w, r)
	})
}
