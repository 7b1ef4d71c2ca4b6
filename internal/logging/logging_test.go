package logging

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"k8s.io/klog/v2"
)

type buffer struct {
	mu sync.Mutex
	bytes.Buffer
}

func (b *buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

func (b *buffer) Sync() error { return nil }

func TestKlogAndLevelsReachTheSink(t *testing.T) {
	var sink buffer
	z, err := New(Options{Level: "warn", Format: "json", Sink: zapcore.AddSync(&sink)})
	if err != nil {
		t.Fatal(err)
	}
	z.Info("dropped: below the level")
	z.Warn("kept", zap.String("k", "v"))
	klog.Error("from klog")
	klog.Flush()
	lines := strings.Split(strings.TrimSpace(sink.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got %d:\n%s", len(lines), sink.String())
	}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %q", l)
		}
	}
	if !strings.Contains(lines[1], `"logger":"klog"`) || !strings.Contains(lines[1], "from klog") {
		t.Errorf("klog line not routed: %s", lines[1])
	}
}

func TestBadOptions(t *testing.T) {
	if _, err := New(Options{Level: "loud", Format: "json"}); err == nil {
		t.Error("accepted level loud")
	}
	if _, err := New(Options{Level: "info", Format: "xml"}); err == nil {
		t.Error("accepted format xml")
	}
}
