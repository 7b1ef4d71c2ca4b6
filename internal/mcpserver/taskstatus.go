package mcpserver

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
)

// mcp-go sends notifications/tasks/status (a task's id and status) to every open session, whoever started
// the task. The server sends none: dropTaskStatus takes them out of every event stream it serves, and
// clients follow their tasks with tasks/get.

// dropTaskStatus passes next's answers through, less the task status events of its event streams.
func dropTaskStatus(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&statusFilter{ResponseWriter: w}, r)
	})
}

// statusFilter holds an event stream's bytes until an event is whole, then writes it unless it is a task
// status notification. Other answers pass as they are.
type statusFilter struct {
	http.ResponseWriter
	pending []byte
}

func (f *statusFilter) Write(p []byte) (int, error) {
	if !strings.HasPrefix(f.Header().Get("Content-Type"), "text/event-stream") {
		return f.ResponseWriter.Write(p)
	}
	f.pending = append(f.pending, p...)
	for {
		end := eventEnd(f.pending)
		if end < 0 {
			return len(p), nil
		}
		event := f.pending[:end]
		if !isTaskStatus(event) {
			if _, err := f.ResponseWriter.Write(event); err != nil {
				return 0, err
			}
		}
		f.pending = append(f.pending[:0], f.pending[end:]...)
	}
}

// eventEnd is where the first whole event ends (after its blank line), or -1.
func eventEnd(b []byte) int {
	end := -1
	for _, sep := range [][]byte{[]byte("\n\n"), []byte("\r\n\r\n"), []byte("\r\r")} {
		if i := bytes.Index(b, sep); i >= 0 && (end < 0 || i+len(sep) < end) {
			end = i + len(sep)
		}
	}
	return end
}

func isTaskStatus(event []byte) bool {
	for _, line := range bytes.Split(event, []byte("\n")) {
		data, ok := bytes.CutPrefix(bytes.TrimRight(line, "\r"), []byte("data:"))
		if !ok {
			continue
		}
		var m struct {
			Method string `json:"method"`
		}
		if json.Unmarshal(bytes.TrimSpace(data), &m) == nil && m.Method == mcp.MethodNotificationTasksStatus {
			return true
		}
	}
	return false
}

func (f *statusFilter) Flush() {
	if fl, ok := f.ResponseWriter.(http.Flusher); ok {
		fl.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (f *statusFilter) Unwrap() http.ResponseWriter { return f.ResponseWriter }
