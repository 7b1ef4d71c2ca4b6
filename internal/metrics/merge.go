package metrics

import (
	"github.com/prometheus/common/model"
)

// Part is one cluster's answer in a fan-out over clusters' own Prometheus.
type Part struct {
	Cluster string
	Value   model.Value
}

// Merge joins the clusters' answers into one, each series labelled with its cluster under label (as a
// fleet store labels them). Scalars and strings become one sample per cluster.
func Merge(parts []Part, label string, ranged bool) model.Value {
	ln := model.LabelName(label)
	if ranged {
		out := model.Matrix{}
		for _, p := range parts {
			if m, ok := p.Value.(model.Matrix); ok {
				for _, s := range m {
					c := *s
					c.Metric = withLabel(s.Metric, ln, p.Cluster)
					out = append(out, &c)
				}
			}
		}
		return out
	}
	out := model.Vector{}
	for _, p := range parts {
		switch v := p.Value.(type) {
		case model.Vector:
			for _, s := range v {
				c := *s
				c.Metric = withLabel(s.Metric, ln, p.Cluster)
				out = append(out, &c)
			}
		case *model.Scalar:
			out = append(out, &model.Sample{Metric: model.Metric{ln: model.LabelValue(p.Cluster)}, Value: v.Value, Timestamp: v.Timestamp})
		case *model.String:
			out = append(out, &model.Sample{Metric: model.Metric{ln: model.LabelValue(p.Cluster), "value": model.LabelValue(v.Value)}, Timestamp: v.Timestamp})
		}
	}
	return out
}

// MergeSeries labels each cluster's series with its cluster.
func MergeSeries(cluster, label string, series []model.LabelSet) []model.LabelSet {
	out := make([]model.LabelSet, len(series))
	for i, s := range series {
		c := s.Clone()
		c[model.LabelName(label)] = model.LabelValue(cluster)
		out[i] = c
	}
	return out
}

func withLabel(m model.Metric, l model.LabelName, v string) model.Metric {
	c := m.Clone()
	c[l] = model.LabelValue(v)
	return c
}
