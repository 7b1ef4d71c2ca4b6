package tools

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkListClustersInProcess: list_clusters' text over an in-memory fleet of 100 and 2,000 clusters
// (no hub, no authorization, no MCP): what the tool itself costs per call.
func BenchmarkListClustersInProcess(b *testing.B) {
	for _, n := range []int{100, 2000} {
		b.Run(fmt.Sprintf("clusters=%d", n), func(b *testing.B) {
			src, _ := bigFleet(n)
			d := Deps{Source: src, Now: func() time.Time { return testNow }, MaxOutputBytes: 32 << 10}
			for b.Loop() {
				if _, err := listClustersText(context.Background(), d, listClustersArgs{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
