package kubectl

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.uber.org/goleak"
	"k8s.io/client-go/rest"
)

// TestNoGoroutineOutlivesItsCall runs a command against an API server that never answers: the call
// ends at its timeout, and every goroutine it started (kubectl's, the HTTP transport's) is gone soon
// after, not left waiting on the hung cluster.
func TestNoGoroutineOutlivesItsCall(t *testing.T) {
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // a spoke that accepts the connection and never answers
	}))
	defer hung.Close()
	e, err := NewEngine(Options{WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	words, _ := Split("get pods -A")
	plan, err := Check(words, ReadTool, false)
	if err != nil {
		t.Fatal(err)
	}
	baseline := goleak.IgnoreCurrent()
	res := e.Run(context.Background(), Request{Key: "hung", Config: &rest.Config{Host: hung.URL}, Plan: plan, Timeout: 500 * time.Millisecond})
	if !errors.Is(res.Err, ErrTimeout) {
		t.Fatalf("a hung cluster gave %v; want a timeout", res.Err)
	}
	e.ForgetCluster("hung")
	// The fixture's own goroutines go first: only the engine's (and kubectl's) are checked.
	hung.Close()
	goleak.VerifyNone(t, baseline,
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"), goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"))
}
