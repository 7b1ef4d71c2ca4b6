// Package e2e drives the built server binary with real MCP clients against a real OCM fleet.
package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ocm-fleet/multicluster-mcp-server/test/fleet"
)

// suite is shared by every test of the package: one fleet and one server binary.
type suite struct {
	fleet     *fleet.Fleet
	serverBin string
	// hubKubeconfig is the server's hub identity (user mcp-server), apart from the harness's admin.
	hubKubeconfig string
	tmp           string
	// seen records every tool result and every server log, for the credential leak scan.
	seen syncBuffer
	// tokens are credentials tests handed to the fleet; none may ever be seen.
	tokensMu sync.Mutex
	tokens   []string
}

func (s *suite) rememberToken(tok string) {
	s.tokensMu.Lock()
	s.tokens = append(s.tokens, tok)
	s.tokensMu.Unlock()
}

var env suite

// ManagedServiceAccounts of the servers the tests start: one per grant, since a ManagedServiceAccount
// records the grant it carries and refuses a server with another (the manifests' test uses the default
// name, in read-write mode).
const (
	roMSA      = "e2e-readonly"
	hostileMSA = "e2e-hostile"
)

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "mcmcp-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	env.tmp = tmp
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Minute)
	defer cancel()
	if env.serverBin, err = buildServer(ctx, tmp); err != nil {
		fmt.Fprintln(os.Stderr, "building the server:", err)
		return 1
	}
	began := time.Now()
	f, err := fleet.Start(ctx, fleet.Options{
		Spokes:               3,
		LeaseDurationSeconds: 5,
		Metrics:              true,
		Log:                  func(format string, args ...any) { fmt.Fprintf(os.Stderr, "fleet: "+format+"\n", args...) },
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the fleet:", err)
		return 1
	}
	defer f.Stop()
	env.fleet = f
	if env.hubKubeconfig, err = f.ServerKubeconfig(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := bindOperators(ctx, f); err != nil {
		fmt.Fprintln(os.Stderr, "binding the fleet operators:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "fleet: started in %s, %d processes, RSS %d MiB\n",
		time.Since(began).Round(time.Millisecond), len(f.Processes()), f.RSS()>>20)
	code := m.Run()
	fmt.Fprintf(os.Stderr, "fleet: RSS at the end %d MiB\n", f.RSS()>>20)
	if code != 0 {
		fmt.Fprintf(os.Stderr, "fleet logs: %s (set FLEET_KEEP_DIR=1 to keep them)\n", f.LogDir())
	}
	return code
}

// bindOperators makes the fleet:operators group cluster-admin on the hub through RBAC, as a real
// administrator's identity is (not through system:masters).
func bindOperators(ctx context.Context, f *fleet.Fleet) error {
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "e2e-fleet-operators"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "Group", Name: fleet.OperatorGroup}},
	}
	_, err := f.Hub.Kube.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{})
	return err
}

// buildServer compiles the server binary the way the Makefile does.
func buildServer(ctx context.Context, dir string) (string, error) {
	if bin := os.Getenv("MCMCP_SERVER_BIN"); bin != "" {
		return bin, nil
	}
	out := filepath.Join(dir, "multicluster-mcp-server")
	// The Makefile's build: the same version stamps (kubectl version reads them).
	cmd := exec.CommandContext(ctx, "make", "-s", "build", "BIN="+out)
	cmd.Dir = fleet.ModuleRoot()
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%w\n%s", err, msg)
	}
	return out, nil
}
