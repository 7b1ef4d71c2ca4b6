// Package memlimit sets the Go runtime's soft memory limit (GOMEMLIMIT) from the memory-limit
// setting: a size, auto (a share of the container's memory limit when it has one) or 0 (none). Near
// the limit the garbage collector runs more often, so that a server whose heap is mostly garbage
// between calls (fan-outs over thousands of clusters) stays within its container instead of growing
// to twice its live heap.
package memlimit

import (
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Auto is the setting's default: AutoShare of the container's limit, none outside a container limit.
const Auto = "auto"

// AutoShare of a container's memory limit is left to the heap; the rest is for the runtime, stacks
// and what the kernel counts beside the heap.
const AutoShare = 0.9

// Limit is what Resolve decided.
type Limit struct {
	Bytes int64  // 0: no limit
	From  string // "setting", "GOMEMLIMIT", "cgroup" or "none"
}

// Cgroup reads the memory limit of the process's cgroup (v2, then v1); false when there is none.
type Cgroup func() (int64, bool)

// Resolve turns the setting into a limit. A GOMEMLIMIT in the environment wins over auto (the runtime
// has applied it already) but not over an explicit size.
func Resolve(setting string, env func(string) string, cgroup Cgroup) (Limit, error) {
	s := strings.TrimSpace(setting)
	switch s {
	case "", Auto:
		if env("GOMEMLIMIT") != "" {
			return Limit{From: "GOMEMLIMIT", Bytes: debug.SetMemoryLimit(-1)}, nil
		}
		if n, ok := cgroup(); ok {
			return Limit{Bytes: int64(float64(n) * AutoShare), From: "cgroup"}, nil
		}
		return Limit{From: "none"}, nil
	case "0":
		return Limit{From: "none"}, nil
	}
	q, err := resource.ParseQuantity(s)
	if err != nil || q.Sign() <= 0 {
		return Limit{}, fmt.Errorf("%q is not a size (e.g. 512Mi or 2Gi), auto or 0", setting)
	}
	n, ok := q.AsInt64()
	if !ok || n < 64<<20 {
		return Limit{}, fmt.Errorf("%q is below 64Mi, too little for the server", setting)
	}
	return Limit{Bytes: n, From: "setting"}, nil
}

// Apply sets the runtime's soft limit; a limit of 0 leaves the runtime as it is.
func Apply(l Limit) {
	if l.Bytes > 0 && l.From != "GOMEMLIMIT" {
		debug.SetMemoryLimit(l.Bytes)
	}
}

// ReadCgroup is the Cgroup of this process, read from the kernel's cgroup files.
func ReadCgroup() (int64, bool) {
	for _, path := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		v := strings.TrimSpace(string(data))
		if v == "max" {
			return 0, false
		}
		n, err := strconv.ParseInt(v, 10, 64)
		// cgroup v1 reports "no limit" as a number near the largest page-aligned int64.
		if err != nil || n <= 0 || n >= math.MaxInt64/2 {
			return 0, false
		}
		return n, true
	}
	return 0, false
}
