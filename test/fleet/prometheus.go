package fleet

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// Prometheus is a Prometheus of a test's own (the fleet's build), beside the fleet's: a bench's fleet
// store, or the scraper of the server's own metrics.
type Prometheus struct {
	URL  string
	proc *Process
}

// StartPrometheus runs the fleet's Prometheus with the given configuration, its data and log in dir,
// and waits until it is ready.
func (f *Fleet) StartPrometheus(ctx context.Context, dir, config string) (*Prometheus, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	p := &Prometheus{URL: "http://" + loopback(port)}
	p.proc = newProcess("prometheus-"+filepath.Base(dir), filepath.Join(f.bins, "prometheus"), dir,
		"--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+loopback(port), "--log.level=warn")
	if err := p.proc.Start(); err != nil {
		return nil, err
	}
	if err := waitHTTP(ctx, p.proc, p.URL+"/-/ready", time.Minute); err != nil {
		p.Stop()
		return nil, err
	}
	return p, nil
}

// Stop ends the Prometheus.
func (p *Prometheus) Stop() { p.proc.Stop(10 * time.Second) }

// Query runs an instant query until ok accepts its JSON answer or ctx ends, and returns the last answer.
func (p *Prometheus) Query(ctx context.Context, query string, ok func(body string) bool) (string, error) {
	var last string
	err := wait.PollUntilContextCancel(ctx, time.Second, true, func(ctx context.Context) (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/api/v1/query?"+url.Values{"query": {query}}.Encode(), nil)
		if err != nil {
			return false, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			last = err.Error()
			return false, nil
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		last = string(body)
		return ok(last), nil
	})
	if err != nil {
		return last, fmt.Errorf("%s: %w; last answer: %.500s", query, err, last)
	}
	return last, nil
}
