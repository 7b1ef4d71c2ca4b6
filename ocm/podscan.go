package ocm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// The pods of a large cluster are scanned as the API server's table, a page at a time: a row is a
// few hundred bytes where a pod is ten kilobytes, so a cluster of 100,000 pods costs megabytes, not a
// gigabyte. Only the pods whose row looks wrong are read in full, at most maxInspected of them (more
// than an answer shows); the others are described from their row.
const (
	podPageSize  = 500
	maxInspected = 30
	tableAccept  = "application/json;as=Table;v=v1;g=meta.k8s.io"
)

// errNoTable: the API server answered the table request with something else.
var errNoTable = errors.New("the pod list is not a table")

// healthyStatus are the STATUS cells of a pod that is fine when all its containers are ready.
var healthyStatus = map[string]bool{"Running": true, "Completed": true, "Succeeded": true}

// problemPods returns the pods that are neither Running and ready nor Succeeded.
func problemPods(ctx context.Context, kube kubernetes.Interface) ([]PodProblem, error) {
	var out []PodProblem
	inspected := 0
	cont := ""
	for {
		table, err := podTablePage(ctx, kube, cont)
		if errors.Is(err, errNoTable) || apierrors.IsNotAcceptable(err) || apierrors.IsUnsupportedMediaType(err) {
			return problemPodsFull(ctx, kube) // an API server that prints no tables
		}
		if err != nil {
			return nil, err
		}
		status, ready, restarts := columnIndex(table, "Status"), columnIndex(table, "Ready"), columnIndex(table, "Restarts")
		for _, row := range table.Rows {
			var meta metav1.PartialObjectMetadata
			if json.Unmarshal(row.Object.Raw, &meta) != nil || meta.Name == "" {
				continue
			}
			st, rd := cell(row, status), cell(row, ready)
			if healthyStatus[st] && (st != "Running" || allReady(rd)) {
				continue
			}
			if inspected < maxInspected {
				inspected++
				p, err := kube.CoreV1().Pods(meta.Namespace).Get(ctx, meta.Name, metav1.GetOptions{})
				if err == nil {
					if pp, bad := InspectPod(p); bad {
						out = append(out, pp)
					}
					continue
				}
				if apierrors.IsNotFound(err) {
					continue // gone since the page was read
				}
			}
			out = append(out, PodProblem{Namespace: meta.Namespace, Name: meta.Name, Reason: st, Failing: failingReasons[strings.TrimPrefix(st, "Init:")],
				Message: fmt.Sprintf("ready %s, restarts %s (from the pod table; not read in full)", rd, cell(row, restarts))})
		}
		if cont = table.Continue; cont == "" {
			return out, nil
		}
	}
}

func podTablePage(ctx context.Context, kube kubernetes.Interface, cont string) (*metav1.Table, error) {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req := kube.CoreV1().RESTClient().Get().Resource("pods").SetHeader("Accept", tableAccept).
		Param("limit", fmt.Sprint(podPageSize)).Param("includeObject", "Metadata")
	if cont != "" {
		req = req.Param("continue", cont)
	}
	raw, err := req.DoRaw(cctx)
	if err != nil {
		return nil, err
	}
	var t metav1.Table
	if err := json.Unmarshal(raw, &t); err != nil || t.Kind != "Table" {
		return nil, errNoTable
	}
	return &t, nil
}

// problemPodsFull reads every pod in full, a page at a time.
func problemPodsFull(ctx context.Context, kube kubernetes.Interface) ([]PodProblem, error) {
	var out []PodProblem
	opts := metav1.ListOptions{Limit: podPageSize}
	for {
		pods, err := kube.CoreV1().Pods("").List(ctx, opts)
		if err != nil {
			return nil, err
		}
		for i := range pods.Items {
			if pp, bad := InspectPod(&pods.Items[i]); bad {
				out = append(out, pp)
			}
		}
		if opts.Continue = pods.Continue; opts.Continue == "" {
			return out, nil
		}
	}
}

func columnIndex(t *metav1.Table, name string) int {
	for i, c := range t.ColumnDefinitions {
		if strings.EqualFold(c.Name, name) {
			return i
		}
	}
	return -1
}

func cell(row metav1.TableRow, i int) string {
	if i < 0 || i >= len(row.Cells) {
		return ""
	}
	return fmt.Sprint(row.Cells[i])
}

// allReady reads a READY cell ("2/2").
func allReady(ready string) bool {
	have, want, ok := strings.Cut(ready, "/")
	return ok && have == want
}
