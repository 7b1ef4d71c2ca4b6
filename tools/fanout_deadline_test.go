package tools

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/kubectl"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

// TestFanOutDeadline: clusters whose turn comes after the call's deadline, or after it was cancelled,
// are not started and record why; the others keep their own results, in target order; and the fan-out
// uses its concurrency bound.
func TestFanOutDeadline(t *testing.T) {
	targets := make([]ocm.Target, 6)
	for i := range targets {
		targets[i] = ocm.Target{Name: fmt.Sprintf("c%d", i)}
	}
	cases := []struct {
		name        string
		concurrency int
		endAfter    int // the call is cancelled once this many clusters have run (0: before the call)
		wantRan     int
		deadline    bool // the call ends by its deadline, not by a cancellation
	}{
		{"deadline already passed", 4, 0, 0, true},
		{"cancelled before the call", 4, 0, 0, false},
		{"cancelled after two, one at a time", 1, 2, 2, false},
		{"no deadline", 3, -1, 6, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.deadline {
				ctx, cancel = context.WithDeadline(ctx, time.Now().Add(-time.Second))
				defer cancel()
			} else if tc.endAfter == 0 {
				cancel()
			}
			notStarted := "was not started: the call was cancelled"
			if tc.deadline {
				notStarted = "was not started before the call's deadline"
			}
			var ran atomic.Int32
			d := Deps{FanOutConcurrency: tc.concurrency, Log: zap.NewNop()}
			runs := d.fanOut(ctx, targets, nil, func(ctx context.Context, tg ocm.Target) kubectl.Result {
				if int(ran.Add(1)) == tc.endAfter {
					cancel()
				}
				return kubectl.Result{Stdout: "ran on " + tg.Name}
			})
			started := 0
			for i, r := range runs {
				if r.cluster != targets[i].Name {
					t.Fatalf("run %d is %s; want %s", i, r.cluster, targets[i].Name)
				}
				switch {
				case r.res.Err == nil && r.res.Stdout == "ran on "+r.cluster:
					started++
				case r.res.Err != nil && strings.Contains(r.res.Err.Error(), "cluster "+r.cluster+" "+notStarted) && errors.Is(r.res.Err, kubectl.ErrTimeout) == tc.deadline:
				default:
					t.Errorf("%s: %+v", r.cluster, r.res)
				}
			}
			if started != tc.wantRan {
				t.Errorf("%d clusters ran; want %d", started, tc.wantRan)
			}
		})
	}
}
