package kubectl

import (
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
)

// activeCalls are the calls using one cluster's shared discovery client at this moment. Discovery is
// shared by every call to a cluster, so no single call's context can govern its requests; instead a
// discovery request ends when every call that was waiting on it has ended. No request outlives the
// calls that needed it.
type activeCalls struct {
	mu   sync.Mutex
	ctxs map[*context.Context]struct{}
}

func newActiveCalls() *activeCalls { return &activeCalls{ctxs: map[*context.Context]struct{}{}} }

// enter registers a call until the returned function is called.
func (a *activeCalls) enter(ctx context.Context) func() {
	key := &ctx
	a.mu.Lock()
	a.ctxs[key] = struct{}{}
	a.mu.Unlock()
	return func() {
		a.mu.Lock()
		delete(a.ctxs, key)
		a.mu.Unlock()
	}
}

func (a *activeCalls) snapshot() []context.Context {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]context.Context, 0, len(a.ctxs))
	for k := range a.ctxs {
		out = append(out, *k)
	}
	return out
}

// bound returns a context that ends once every call active now has ended (at once when there is none):
// the lifetime of shared work those calls wait for.
func (a *activeCalls) bound() (context.Context, context.CancelFunc) {
	return untilAllEnd(context.Background(), a.snapshot())
}

// untilAllEnd derives from parent a context that ends once every one of waiting has ended (at once when
// there is none); release stops watching them and ends it.
func untilAllEnd(parent context.Context, waiting []context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancel(parent)
	if len(waiting) == 0 {
		cancel()
		return ctx, cancel
	}
	remaining := int32(len(waiting))
	stops := make([]func() bool, 0, len(waiting))
	for _, c := range waiting {
		stops = append(stops, context.AfterFunc(c, func() {
			if atomic.AddInt32(&remaining, -1) == 0 {
				cancel()
			}
		}))
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
		cancel()
	}
}

// callsBound cancels each shared discovery request once every call active when it began has ended.
type callsBound struct {
	calls *activeCalls
	next  http.RoundTripper
}

func (b *callsBound) RoundTrip(req *http.Request) (*http.Response, error) {
	waiting := b.calls.snapshot()
	if len(waiting) == 0 {
		return nil, context.Canceled
	}
	ctx, release := untilAllEnd(req.Context(), waiting)
	resp, err := b.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		release()
		return nil, err
	}
	resp.Body = &releasingBody{ReadCloser: resp.Body, release: release}
	return resp, nil
}

type releasingBody struct {
	io.ReadCloser
	once    sync.Once
	release func()
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}
