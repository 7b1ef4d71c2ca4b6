package mcpserver

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestTaskStatusIsDropped: task status events leave the event streams, whichever way the writes cut
// them; every other event, and answers that are not event streams, pass unchanged.
func TestTaskStatusIsDropped(t *testing.T) {
	const (
		progress = "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{}}\n\n"
		status   = "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/tasks/status\",\"params\":{\"taskId\":\"t1\"}}\n\n"
		endpoint = "event: endpoint\ndata: /message?sessionId=x\r\n\r\n"
		result   = `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"notifications/tasks/status"}]}}`
	)
	cases := []struct {
		name, contentType string
		writes            []string
		want              string
	}{
		{"whole events", "text/event-stream", []string{progress, status, progress}, progress + progress},
		{"events cut anywhere", "text/event-stream", []string{progress[:10], progress[10:] + status[:30], status[30:] + endpoint}, progress + endpoint},
		{"a status event alone", "text/event-stream", []string{status}, ""},
		{"a JSON answer naming the method", "application/json", []string{result}, result},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h := dropTaskStatus(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", tc.contentType)
				for _, p := range tc.writes {
					if n, err := w.Write([]byte(p)); err != nil || n != len(p) {
						t.Fatalf("write: %d %v", n, err)
					}
					w.(http.Flusher).Flush()
				}
			}))
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/mcp", nil))
			if got := rec.Body.String(); got != tc.want {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
			if strings.Contains(tc.contentType, "event-stream") && !rec.Flushed {
				t.Error("flushes do not reach the client")
			}
		})
	}
}
