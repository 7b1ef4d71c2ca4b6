package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// DefaultMaxBodyBytes bounds what one answer of the Prometheus API may hold before it is refused.
const DefaultMaxBodyBytes = 32 << 20

// Client speaks the Prometheus HTTP API (Prometheus, a Thanos querier, anything that serves /api/v1)
// at a base URL through a RoundTripper. It only ever sends GET requests: behind an API server's service
// proxy a GET is "get services/proxy", which a read-only grant allows, where a POST would be "create".
// (client_golang's v1 API posts queries and falls back to GET only on 405, so it is not used to send
// them; its types and common/model's decode the answers.)
type Client struct {
	base    *url.URL
	http    *http.Client
	maxBody int64
}

// NewClient builds a client of the API at baseURL (the part before /api/v1).
func NewClient(baseURL string, rt http.RoundTripper) (*Client, error) {
	u, err := url.Parse(strings.TrimSuffix(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an http(s) URL", baseURL)
	}
	if rt == nil {
		rt = http.DefaultTransport
	}
	return &Client{base: u, http: &http.Client{Transport: getOnly{rt}}, maxBody: DefaultMaxBodyBytes}, nil
}

// getOnly refuses every request but GET, whatever builds it.
type getOnly struct{ next http.RoundTripper }

func (g getOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet {
		return nil, fmt.Errorf("the metrics client sends only GET requests, not %s", req.Method)
	}
	return g.next.RoundTrip(req)
}

// APIError is an answer other than success: the HTTP status, and Prometheus's error type and message
// when the body had them.
type APIError struct {
	Status    int
	ErrorType string
	Message   string
}

func (e *APIError) Error() string {
	msg := e.Message
	if e.ErrorType != "" {
		msg = e.ErrorType + ": " + msg
	}
	return fmt.Sprintf("HTTP %d: %s", e.Status, msg)
}

// Result is the answer of a query: its value (model.Vector, model.Matrix, *model.Scalar or
// *model.String) and the warnings Prometheus returned.
type Result struct {
	Value    model.Value
	Warnings []string
}

type envelope struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Warnings  []string        `json:"warnings"`
	Infos     []string        `json:"infos"`
}

// get sends one GET to the API path with the arguments and decodes data into into.
func (c *Client) get(ctx context.Context, path string, args url.Values, into any) ([]string, error) {
	u := *c.base
	u.Path = c.base.Path + path
	u.RawQuery = args.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	if int64(len(body)) > c.maxBody {
		return nil, &APIError{Status: resp.StatusCode, ErrorType: "too_large",
			Message: fmt.Sprintf("the answer is larger than %d MiB; narrow the query (more label matchers, a shorter range, a larger step, or aggregate with sum by (...) or topk)", c.maxBody>>20)}
	}
	var env envelope
	jsonErr := json.Unmarshal(body, &env)
	if resp.StatusCode/100 != 2 || jsonErr != nil || env.Status != "success" {
		e := &APIError{Status: resp.StatusCode, ErrorType: env.ErrorType, Message: env.Error}
		if jsonErr != nil || (env.Error == "" && env.ErrorType == "") {
			e.Message = bodyExcerpt(body)
		}
		return nil, e
	}
	if into != nil {
		if err := json.Unmarshal(env.Data, into); err != nil {
			return nil, fmt.Errorf("decoding the answer of %s: %w", path, err)
		}
	}
	return env.Warnings, nil
}

// bodyExcerpt is the start of a body that is not the API's JSON (a proxy's error page, say), on one line.
func bodyExcerpt(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	if s == "" {
		s = "(empty answer)"
	}
	return s
}

type queryData struct {
	ResultType model.ValueType `json:"resultType"`
	Result     json.RawMessage `json:"result"`
}

func (d queryData) value() (model.Value, error) {
	switch d.ResultType {
	case model.ValVector:
		var vec model.Vector
		if err := json.Unmarshal(d.Result, &vec); err != nil {
			return nil, err
		}
		return vec, nil
	case model.ValMatrix:
		var m model.Matrix
		if err := json.Unmarshal(d.Result, &m); err != nil {
			return nil, err
		}
		return m, nil
	case model.ValScalar:
		s := &model.Scalar{}
		if err := json.Unmarshal(d.Result, s); err != nil {
			return nil, err
		}
		return s, nil
	case model.ValString:
		s := &model.String{}
		if err := json.Unmarshal(d.Result, s); err != nil {
			return nil, err
		}
		return s, nil
	}
	return nil, fmt.Errorf("unknown result type %q", d.ResultType)
}

func formatTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', -1, 64)
}

func formatStep(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) }

// Query runs an instant query at ts; timeout, when positive, is passed on to the server.
func (c *Client) Query(ctx context.Context, query string, ts time.Time, timeout time.Duration) (*Result, error) {
	args := url.Values{"query": {query}, "time": {formatTime(ts)}}
	if timeout > 0 {
		args.Set("timeout", formatStep(timeout)+"s")
	}
	return c.query(ctx, "/api/v1/query", args)
}

// QueryRange runs a range query from start to end every step.
func (c *Client) QueryRange(ctx context.Context, query string, start, end time.Time, step, timeout time.Duration) (*Result, error) {
	args := url.Values{"query": {query}, "start": {formatTime(start)}, "end": {formatTime(end)}, "step": {formatStep(step)}}
	if timeout > 0 {
		args.Set("timeout", formatStep(timeout)+"s")
	}
	return c.query(ctx, "/api/v1/query_range", args)
}

func (c *Client) query(ctx context.Context, path string, args url.Values) (*Result, error) {
	var d queryData
	warnings, err := c.get(ctx, path, args, &d)
	if err != nil {
		return nil, err
	}
	v, err := d.value()
	if err != nil {
		return nil, fmt.Errorf("decoding the answer of %s: %w", path, err)
	}
	return &Result{Value: v, Warnings: warnings}, nil
}

// Series lists the series that match any of the selectors between start and end, at most limit
// (0: no limit; servers that do not know the parameter ignore it).
func (c *Client) Series(ctx context.Context, matches []string, start, end time.Time, limit int) ([]model.LabelSet, []string, error) {
	args := url.Values{"match[]": matches, "start": {formatTime(start)}, "end": {formatTime(end)}}
	if limit > 0 {
		args.Set("limit", strconv.Itoa(limit))
	}
	var out []model.LabelSet
	warnings, err := c.get(ctx, "/api/v1/series", args, &out)
	return out, warnings, err
}

// LabelValues lists the values of a label over the series that match the selectors.
func (c *Client) LabelValues(ctx context.Context, label string, matches []string, start, end time.Time, limit int) ([]string, []string, error) {
	if !ValidLabelName(label) {
		return nil, nil, fmt.Errorf("%q is not a label name", label)
	}
	args := url.Values{"match[]": matches, "start": {formatTime(start)}, "end": {formatTime(end)}}
	if limit > 0 {
		args.Set("limit", strconv.Itoa(limit))
	}
	var out []string
	warnings, err := c.get(ctx, "/api/v1/label/"+url.PathEscape(label)+"/values", args, &out)
	return out, warnings, err
}

// Alerts lists the alerts the server's rules hold now (/api/v1/alerts: Prometheus has it, a Thanos
// querier only with a rules API behind it).
func (c *Client) Alerts(ctx context.Context) ([]promv1.Alert, error) {
	var out promv1.AlertsResult
	if _, err := c.get(ctx, "/api/v1/alerts", nil, &out); err != nil {
		return nil, err
	}
	return out.Alerts, nil
}

// IsNotServed says the error means the endpoint or the service is not there (404, 405, 501, 503):
// another way should be tried, rather than the call failed.
func IsNotServed(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.Status {
	case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented, http.StatusServiceUnavailable:
		return true
	}
	return false
}

// IsForbidden says the API server (or the proxy behind it) refused the credentials.
func IsForbidden(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && (ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden)
}
