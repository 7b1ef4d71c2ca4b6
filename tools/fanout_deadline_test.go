package tools

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/kubectl"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

// TestFanOutDeadline: clusters whose turn comes after the call's deadline are not started and record a
// timeout that says so; the others keep their own results, in target order; and the fan-out uses its
// concurrency bound.
func TestFanOutDeadline(t *testing.T) {
	targets := make([]ocm.Target, 6)
	for i := range targets {
		targets[i] = ocm.Target{Name: fmt.Sprintf("c%d", i)}
	}
	cases := []struct {
		name        string
		concurrency int
		endAfter    int // the deadline passes once this many clusters have run (0: before the call)
		wantRan     int
	}{
		{"deadline already passed", 4, 0, 0},
		{"deadline passes after two, one at a time", 1, 2, 2},
		{"no deadline", 3, -1, 6},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.endAfter == 0 {
				cancel()
			}
			var ran atomic.Int32
			d := Deps{FanOutConcurrency: tc.concurrency}
			runs := d.fanOut(ctx, targets, func(ctx context.Context, tg ocm.Target) kubectl.Result {
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
				case errors.Is(r.res.Err, kubectl.ErrTimeout) && strings.Contains(r.res.Err.Error(), "cluster "+r.cluster+" was not started before the call's deadline"):
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
