package auth

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"k8s.io/utils/lru"
)

// TestCredentialCacheMemory measures what the default credential cache costs when full: DefaultCacheSize
// spokes, each with its own API URL, a 1.2 KB CA bundle (one per cluster, as each ManagedCluster
// publishes its own) and a 1 KB token, the sizes of the test fleet's. The budget is 10 KB a cluster,
// 50 MB for a full default cache.
func TestCredentialCacheMemory(t *testing.T) {
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	cache := lru.New(DefaultCacheSize)
	for i := range DefaultCacheSize {
		name := fmt.Sprintf("cluster-%05d", i)
		ca := []byte(strings.Repeat("c", 1200) + name)
		s := &spoke{host: "https://api." + name + ".example.com:6443", ca: ca, src: &tokenSource{
			namespace: name, name: DefaultMSAName, recheck: DefaultTokenRecheck, timeout: 15 * time.Second,
			token: strings.Repeat("t", 1000) + name, ca: ca, version: "123456", fetched: time.Now(),
		}}
		cache.Add(name, s)
	}
	per := float64(heap()-before) / DefaultCacheSize
	runtime.KeepAlive(cache)
	t.Logf("%d cached spokes: %.1f KB each, %.1f MB in all", DefaultCacheSize, per/1024, per*DefaultCacheSize/(1<<20))
	if per > 10<<10 {
		t.Errorf("a cached spoke costs %.0f bytes; the budget is 10 KB", per)
	}
}
