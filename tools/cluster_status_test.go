package tools

import (
	"context"
	"strings"
	"testing"
)

func TestClusterStatusGolden(t *testing.T) {
	for _, name := range []string{"east-prod", "west-stage", "new-edge"} {
		t.Run(name, func(t *testing.T) {
			got, err := clusterStatusText(context.Background(), fixtureDeps(), name)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "cluster_status_"+name+".txt", got)
		})
	}
}

func TestClusterStatusUnknownName(t *testing.T) {
	_, err := clusterStatusText(context.Background(), fixtureDeps(), "east-prd")
	if err == nil || !strings.Contains(err.Error(), `did you mean "east-prod"`) {
		t.Fatalf("err = %v", err)
	}
}
