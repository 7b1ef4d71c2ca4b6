// Package fanout runs one piece of work per item (a cluster, mostly) with bounded concurrency under one
// context, whose deadline bounds the whole run: an item not started when the context ends is not started
// at all, and the caller records what that means for it.
package fanout

import (
	"context"
	"sync"
	"sync/atomic"
)

// Run calls run(ctx, i) for every i in [0, n), at most limit at a time (limit < 1 means 1), in order of
// i as workers free up, and returns once every item has run or been skipped. An item whose turn comes
// after ctx ended is not run: skipped(i, ctx.Err()) is called for it instead. Each item gets exactly one
// of the two calls, so a caller that writes result i in both keeps one result per item.
func Run(ctx context.Context, n, limit int, run func(ctx context.Context, i int), skipped func(i int, err error)) {
	if n <= 0 {
		return
	}
	workers := min(max(limit, 1), n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := ctx.Err(); err != nil {
					skipped(i, err)
					continue
				}
				run(ctx, i)
			}
		}()
	}
	wg.Wait()
}
