package fanout

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

// TestRun: every item runs or is skipped exactly once; no more than limit run at once; items whose turn
// comes after the context ended are skipped with its error, and those started before it ended finish.
func TestRun(t *testing.T) {
	cases := []struct {
		name  string
		n     int
		limit int
		// cancelAfter ends the context when that many items have started (-1: never, 0: before the run).
		cancelAfter int
		wantRan     int // -1: any number between limit-bound and n
		wantSkipped int
	}{
		{"no items", 0, 4, -1, 0, 0},
		{"fewer items than workers", 3, 16, -1, 3, 0},
		{"more items than workers", 100, 7, -1, 100, 0},
		{"limit below one means one", 5, 0, -1, 5, 0},
		{"ended before the run", 10, 4, 0, 0, 10},
		{"ends part way, one at a time", 10, 1, 3, 3, 7},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancelAfter == 0 {
				cancel()
			}
			outcome := make([]string, tc.n)
			var mu sync.Mutex
			var inFlight, most, started atomic.Int32
			Run(ctx, tc.n, tc.limit, func(ctx context.Context, i int) {
				now := inFlight.Add(1)
				defer inFlight.Add(-1)
				for {
					m := most.Load()
					if now <= m || most.CompareAndSwap(m, now) {
						break
					}
				}
				if s := started.Add(1); tc.cancelAfter > 0 && int(s) == tc.cancelAfter {
					cancel()
				}
				mu.Lock()
				defer mu.Unlock()
				if outcome[i] != "" {
					t.Errorf("item %d handled twice", i)
				}
				outcome[i] = "ran"
			}, func(i int, err error) {
				mu.Lock()
				defer mu.Unlock()
				if outcome[i] != "" {
					t.Errorf("item %d handled twice", i)
				}
				if !errors.Is(err, context.Canceled) {
					t.Errorf("item %d skipped with %v; want the context's error", i, err)
				}
				outcome[i] = "skipped"
			})
			ran, skipped := 0, 0
			for i, o := range outcome {
				switch o {
				case "ran":
					ran++
				case "skipped":
					skipped++
				default:
					t.Errorf("item %d neither ran nor was skipped", i)
				}
			}
			if ran != tc.wantRan || skipped != tc.wantSkipped {
				t.Errorf("%d ran and %d skipped; want %d and %d", ran, skipped, tc.wantRan, tc.wantSkipped)
			}
			if limit := max(tc.limit, 1); int(most.Load()) > limit {
				t.Errorf("%d ran at once; the limit is %d", most.Load(), limit)
			}
		})
	}
}

// TestRunUsesTheLimit: with items that wait for each other, limit items run at once (not fewer).
func TestRunUsesTheLimit(t *testing.T) {
	const limit = 5
	var arrived sync.WaitGroup
	arrived.Add(limit)
	release := make(chan struct{})
	go func() {
		arrived.Wait() // all limit items are running together
		close(release)
	}()
	var first atomic.Int32
	Run(context.Background(), 3*limit, limit, func(ctx context.Context, i int) {
		if first.Add(1) <= limit {
			arrived.Done()
			<-release
		}
	}, func(int, error) { t.Error("nothing should be skipped") })
}
