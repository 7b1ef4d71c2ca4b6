package ocm

import (
	"reflect"
	"testing"
)

func TestClosest(t *testing.T) {
	names := []string{"hub", "east-prod-1", "east-prod-2", "west-stage", "spoke1", "spoke2"}
	tests := []struct {
		in   string
		want []string
	}{
		{"spoke3", []string{"spoke1", "spoke2"}},
		{"east-prod", []string{"east-prod-1", "east-prod-2"}},
		{"wset-stage", []string{"west-stage"}},
		{"HUB", []string{"hub"}},
		{"completely-different", []string{}},
	}
	for _, tc := range tests {
		got := Closest(tc.in, names, 3)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Closest(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		d    int
	}{{"", "abc", 3}, {"kitten", "sitting", 3}, {"spoke1", "spoke1", 0}, {"é", "e", 1}} {
		if got := editDistance(tc.a, tc.b); got != tc.d {
			t.Errorf("editDistance(%q,%q) = %d, want %d", tc.a, tc.b, got, tc.d)
		}
	}
}
