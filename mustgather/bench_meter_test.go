package mustgather

import (
	"context"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

// meter counts what the archive's API server does for one op: the requests it answers, the time it
// takes to make them and their bytes. With the CPU time of the process over the op, it shows what
// the client (kubectl's decoding and printing, client-go's) costs beside the server.
type meter struct {
	requests, bytes, nanos atomic.Int64
	cpu                    time.Duration // the process's CPU time when the op began
}

// config is a REST config of one cluster of the archive, metered when m is set.
func (m *meter) config(b testing.TB, a *Archive, cluster string) *rest.Config {
	b.Helper()
	cfg, err := Connector{Archive: a}.RESTConfig(context.Background(), ocm.Target{Name: cluster})
	if err != nil {
		b.Fatal(err)
	}
	if m != nil {
		cfg.Transport = meteredTransport{next: cfg.Transport, m: m}
	}
	return cfg
}

type meteredTransport struct {
	next http.RoundTripper
	m    *meter
}

func (t meteredTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	began := time.Now()
	resp, err := t.next.RoundTrip(req)
	t.m.nanos.Add(int64(time.Since(began)))
	t.m.requests.Add(1)
	if resp != nil {
		t.m.bytes.Add(resp.ContentLength)
	}
	return resp, err
}

// start resets the meter for an op.
func (m *meter) start() {
	m.requests.Store(0)
	m.bytes.Store(0)
	m.nanos.Store(0)
	m.cpu = processCPU()
}

// report adds the figures of n ops to a benchmark: per op, the requests, the server's time and
// bytes, and the process's CPU time.
func (m *meter) report(b *testing.B, n int) {
	n = max(n, 1)
	b.ReportMetric(float64(m.requests.Load())/float64(n), "requests/op")
	b.ReportMetric(float64(m.nanos.Load())/1e6/float64(n), "server-ms/op")
	b.ReportMetric(float64(m.bytes.Load())/(1<<10)/float64(n), "served-KiB/op")
	b.ReportMetric(float64(processCPU()-m.cpu)/1e6/float64(n), "cpu-ms/op")
}

// processCPU is the user and system CPU time the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
