package fleet

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// Binaries the fleet runs, all expected in one folder.
var requiredBinaries = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "registration", "work", "placement", "addon", "msa"}

// binDir returns the folder holding the fleet binaries: explicit, $FLEET_BIN_DIR, or whatever
// build-binaries.sh prints (it builds once and caches by version).
func binDir(ctx context.Context, explicit string) (string, error) {
	dir := explicit
	if dir == "" {
		dir = os.Getenv("FLEET_BIN_DIR")
	}
	if dir == "" {
		script := filepath.Join(ModuleRoot(), "test", "fleet", "build-binaries.sh")
		cmd := exec.CommandContext(ctx, "bash", script)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("building the fleet binaries: %w\n%s", err, stderr.String())
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		dir = lines[len(lines)-1]
	}
	for _, b := range requiredBinaries {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			return "", fmt.Errorf("fleet binary %s missing in %s (run test/fleet/build-binaries.sh): %w", b, dir, err)
		}
	}
	return dir, nil
}

// buildMSAAgent compiles this module's managed-serviceaccount agent command into dir.
func buildMSAAgent(ctx context.Context, dir string) (string, error) {
	out := filepath.Join(dir, "bin", "msa-agent")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./test/fleet/cmd/msa-agent")
	cmd.Dir = ModuleRoot()
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building msa-agent: %w\n%s", err, msg)
	}
	return out, nil
}

// waitHTTP polls url until it answers 200, failing early if the process exits.
func waitHTTP(ctx context.Context, p *Process, url string, timeout time.Duration) error {
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		if p.Exited() {
			return false, errExited
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		return fmt.Errorf("%s not healthy at %s: %w\n%s", p.Name, url, err, p.Tail(2000))
	}
	return nil
}
