package memlimit

import (
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	noEnv := func(string) string { return "" }
	none := func() (int64, bool) { return 0, false }
	container := func() (int64, bool) { return 1 << 30, true }
	cases := []struct {
		setting string
		env     func(string) string
		cgroup  Cgroup
		want    Limit
		err     string
	}{
		{"auto", noEnv, none, Limit{From: "none"}, ""},
		{"", noEnv, container, Limit{Bytes: 966367641, From: "cgroup"}, ""}, // 90% of 1 GiB
		{"0", noEnv, container, Limit{From: "none"}, ""},
		{"512Mi", noEnv, container, Limit{Bytes: 512 << 20, From: "setting"}, ""},
		{"2G", noEnv, none, Limit{Bytes: 2e9, From: "setting"}, ""},
		{"lots", noEnv, none, Limit{}, "is not a size"},
		{"-1Gi", noEnv, none, Limit{}, "is not a size"},
		{"10Mi", noEnv, none, Limit{}, "below 64Mi"},
	}
	for _, c := range cases {
		got, err := Resolve(c.setting, c.env, c.cgroup)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want %q", c.setting, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q: %+v %v, want %+v", c.setting, got, err, c.want)
		}
	}
	// The environment's GOMEMLIMIT is the runtime's already: auto keeps it, a size replaces it.
	env := func(k string) string {
		if k == "GOMEMLIMIT" {
			return "300MiB"
		}
		return ""
	}
	if got, _ := Resolve("auto", env, container); got.From != "GOMEMLIMIT" {
		t.Errorf("auto with GOMEMLIMIT: %+v", got)
	}
	if got, _ := Resolve("400Mi", env, container); got.From != "setting" || got.Bytes != 400<<20 {
		t.Errorf("size with GOMEMLIMIT: %+v", got)
	}
}
