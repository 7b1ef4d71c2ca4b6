package mustgather

import (
	"context"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
)

// syncIndexObjects is the most objects Open decodes before it returns; a larger archive is decoded
// in the background while it is served (a query that needs an object not yet decoded decodes its file
// itself, once), so that a server on a large archive answers at once.
const syncIndexObjects = 20_000

// indexer decodes every file of an archive once, with a worker per CPU.
type indexer struct {
	spill   *spill
	dir     string // private folder of the spill file, when the archive has no unpack folder
	stop    context.CancelFunc
	done    chan struct{}
	objects int
	closed  sync.Once
}

// startIndex prepares the spill file; its folder is the unpack folder of an archive, else a private one.
func (a *Archive) startIndex(o OpenOptions) {
	ix := &indexer{}
	dir := a.workDir
	if dir == "" {
		if d, err := os.MkdirTemp(o.WorkDir, "must-gather-index-"); err == nil {
			dir, ix.dir = d, d
		}
	}
	ix.spill = openSpill(dir)
	a.ix = ix
}

// decodeAll starts the workers that decode every file, once the reference time is known, and waits
// for them when the archive is small.
func (a *Archive) decodeAll(o OpenOptions) {
	now := a.ReferenceTime()
	a.refTime = now
	type job struct {
		c *Cluster
		g *fileGroup
	}
	var jobs []job
	for _, name := range a.Names() {
		c := a.Clusters[name]
		c.now, c.rowsReady = now, true
		seen := map[*fileGroup]bool{}
		for _, r := range c.Resources {
			for _, o := range r.Objects {
				if o.grp != nil && !seen[o.grp] {
					seen[o.grp] = true
					jobs = append(jobs, job{c, o.grp})
				}
				a.ix.objects++
			}
		}
	}
	ctx, stop := context.WithCancel(context.Background())
	a.ix.stop, a.ix.done = stop, make(chan struct{})
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < min(runtime.GOMAXPROCS(0), max(len(jobs), 1)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(jobs) {
					return
				}
				j := jobs[i]
				j.g.once.Do(func() { j.c.decode(j.g) })
			}
		}()
	}
	go func() {
		wg.Wait()
		close(a.ix.done)
	}()
	wait := syncIndexObjects
	if o.waitObjects != 0 {
		wait = o.waitObjects
	}
	if a.ix.objects <= wait {
		<-a.ix.done
	}
}

// Indexed waits until every object of the archive is decoded (see syncIndexObjects): queries are
// answered before, decoding what they need.
func (a *Archive) Indexed(ctx context.Context) error {
	if a.ix == nil || a.ix.done == nil {
		return nil
	}
	select {
	case <-a.ix.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// closeIndex stops the workers and removes the spill file.
func (a *Archive) closeIndex() {
	if a.ix == nil {
		return
	}
	a.ix.closed.Do(func() {
		if a.ix.stop != nil {
			a.ix.stop()
			<-a.ix.done
		}
		a.ix.spill.close()
		if a.ix.dir != "" {
			_ = os.RemoveAll(a.ix.dir)
		}
	})
}
