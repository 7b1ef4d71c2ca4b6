package mustgather

import (
	"os"
	"path/filepath"
	"sort"
)

// AlertFiles are the files of a cluster's folders that record its alerts, as OpenShift must-gathers
// collect them: Prometheus's rules with their alerts (monitoring/prometheus/rules.json, or one per
// replica under monitoring/prometheus/<pod>/), and Alertmanager's status
// (monitoring/alertmanager/status.json, or per replica).
type AlertFiles struct {
	Rules        []string
	Alertmanager []string
}

// Empty says the cluster's folders hold no alert data.
func (f AlertFiles) Empty() bool { return len(f.Rules) == 0 && len(f.Alertmanager) == 0 }

// AlertFiles finds the cluster's alert files. Only regular files inside its folders count.
func (c *Cluster) AlertFiles() AlertFiles {
	var out AlertFiles
	for _, dir := range c.Dirs {
		out.Rules = append(out.Rules, regularFiles(dir, "monitoring/prometheus/rules.json", "monitoring/prometheus/*/rules.json")...)
		out.Alertmanager = append(out.Alertmanager, regularFiles(dir, "monitoring/alertmanager/status.json", "monitoring/alertmanager/*/status.json")...)
	}
	return out
}

func regularFiles(dir string, patterns ...string) []string {
	var out []string
	for _, p := range patterns {
		matches, _ := filepath.Glob(filepath.Join(dir, filepath.FromSlash(p)))
		sort.Strings(matches)
		for _, m := range matches {
			if st, err := os.Lstat(m); err == nil && st.Mode().IsRegular() {
				out = append(out, m)
			}
		}
	}
	return out
}
