// Package otlpsink is an OTLP/HTTP trace receiver for tests: it decodes the protobuf export requests
// that OpenTelemetry SDKs send to /v1/traces (the OTLP wire format, go.opentelemetry.io/proto/otlp) and
// keeps the spans, so a test can check what a real exporter sent. It stands in for an OpenTelemetry
// Collector; it does not check what a collector would do with the spans afterwards.
package otlpsink

import (
	"compress/gzip"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/protobuf/proto"
)

// Span is one received span, its IDs in hex.
type Span struct {
	Name, TraceID, SpanID, ParentID string
	Service                         string
	Attributes                      map[string]string
	// Error says the span's status is Error.
	Error bool
}

// Sink receives spans until Close.
type Sink struct {
	srv *httptest.Server

	mu      sync.Mutex
	spans   []Span
	changed chan struct{} // closed and replaced whenever spans arrive
}

// Start serves the receiver on a loopback port.
func Start() *Sink {
	s := &Sink{changed: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(s.receive))
	return s
}

// URL is the endpoint to configure (the base URL; exporters add /v1/traces).
func (s *Sink) URL() string { return s.srv.URL }

// Close stops the receiver.
func (s *Sink) Close() { s.srv.Close() }

func (s *Sink) receive(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/traces" || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		defer zr.Close()
		body = zr
	}
	data, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(data, &req); err != nil {
		http.Error(w, "not an OTLP trace export: "+err.Error(), http.StatusBadRequest)
		return
	}
	var got []Span
	for _, rs := range req.GetResourceSpans() {
		service := attributes(rs.GetResource().GetAttributes())["service.name"]
		for _, ss := range rs.GetScopeSpans() {
			for _, sp := range ss.GetSpans() {
				got = append(got, Span{Name: sp.GetName(), TraceID: hex.EncodeToString(sp.GetTraceId()),
					SpanID: hex.EncodeToString(sp.GetSpanId()), ParentID: hex.EncodeToString(sp.GetParentSpanId()),
					Service: service, Attributes: attributes(sp.GetAttributes()), Error: sp.GetStatus().GetCode() == 2})
			}
		}
	}
	s.mu.Lock()
	s.spans = append(s.spans, got...)
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	_, _ = w.Write(out)
}

func attributes(kvs []*commonpb.KeyValue) map[string]string {
	out := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		v := kv.GetValue()
		switch {
		case v.GetStringValue() != "":
			out[kv.GetKey()] = v.GetStringValue()
		case v.GetIntValue() != 0:
			out[kv.GetKey()] = fmt.Sprint(v.GetIntValue())
		default:
			out[kv.GetKey()] = strings.TrimSpace(v.String())
		}
	}
	return out
}

// Spans returns a copy of the spans received so far.
func (s *Sink) Spans() []Span {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Span(nil), s.spans...)
}

// WaitFor waits until ok holds for the spans received, or ctx ends; it returns the spans it last saw.
func (s *Sink) WaitFor(ctx context.Context, ok func([]Span) bool) ([]Span, error) {
	for {
		s.mu.Lock()
		spans, changed := append([]Span(nil), s.spans...), s.changed
		s.mu.Unlock()
		if ok(spans) {
			return spans, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return spans, fmt.Errorf("%w with %d spans received", ctx.Err(), len(spans))
		}
	}
}
