package index

import (
	"context"
	"fmt"
	"runtime"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/ocm-fleet/multicluster-mcp-server/mustgather"
)

// LoadArchive puts a must-gather's objects of the given kinds (hubKinds too for its hub folder) into
// the store, through the same path the collectors take, and marks each cluster as an archive synced
// at the archive's reference time.
func LoadArchive(ctx context.Context, s *Store, a *mustgather.Archive, kinds, hubKinds []schema.GroupResource) (int, error) {
	total := 0
	for _, name := range a.Names() {
		c := a.Clusters[name]
		want := append([]schema.GroupResource{}, kinds...)
		if name == mustgather.HubName {
			want = append(want, hubKinds...)
		}
		n := 0
		for _, gr := range want {
			r := c.Resources[gr]
			if r == nil {
				continue
			}
			objs, err := c.All(gr)
			if err != nil {
				return total, fmt.Errorf("cluster %s: %s: %w", name, gr, err)
			}
			ops := make([]Op, 0, len(objs))
			for _, o := range objs {
				// Objects of the archive are shared with its cache: the row gets its own copy.
				row, err := RowOf(name, gr.Resource, r.GVR.Group, r.GVR.Version, r.Kind, o.DeepCopy().Object)
				if err != nil {
					continue
				}
				ops = append(ops, Op{Row: row, Epoch: 1})
				if len(ops) == 500 {
					if err := s.Apply(ctx, ops); err != nil {
						return total, err
					}
					n, ops = n+len(ops), ops[:0]
				}
			}
			if err := s.Apply(ctx, ops); err != nil {
				return total, err
			}
			n += len(ops)
		}
		total += n
		state := ClusterState{Cluster: name, State: StateArchive, Synced: a.ReferenceTime()}
		if len(c.Resources) == 0 {
			state = ClusterState{Cluster: name, State: StateRetrying, Error: "the must-gather could not collect it: " + a.Errors[name]}
		}
		if err := s.SetCluster(ctx, state); err != nil {
			return total, err
		}
		runtime.Gosched()
	}
	return total, nil
}
