package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/ocm-fleet/multicluster-mcp-server/test/fleet"
)

// httpServer runs the server binary with the HTTP transport, where every call is authorized for its
// caller: a TokenReview of the bearer token (cached 30 s) and SubjectAccessReviews on the hub (cached
// 10 s), as in production. It returns a Streamable HTTP client acting as the fleet operator (a group
// bound to cluster-admin by RBAC, not system:masters, so the hub's authorizer really decides) and the
// server's process.
func httpServer(b *testing.B, args ...string) (*client.Client, *exec.Cmd) {
	b.Helper()
	bindOperators(b)
	// The per-caller rate limit is lifted: the benchmark calls as fast as the server answers.
	args = append([]string{"--transport", "http", "--listen", "127.0.0.1:0", "--rate-limit", "100000"}, args...)
	cmd := exec.Command(shared.serverBin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var line struct {
				Msg     string `json:"msg"`
				Address string `json:"address"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "serving MCP over HTTP" {
				addr <- line.Address
				break
			}
		}
		_, _ = io.Copy(io.Discard, stderr) // keep the pipe drained
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case <-time.After(2 * time.Minute):
		b.Fatal("the HTTP server did not report its address")
	}
	// Ready once the informers hold the whole fleet (thousands of ManagedClusters take a while).
	err = wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, 5*time.Minute, true, func(ctx context.Context) (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
		if err != nil {
			return false, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		b.Fatal("the HTTP server did not become ready: ", err)
	}
	tr, err := transport.NewStreamableHTTP(base+"/mcp", transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + fleet.OperatorToken}))
	if err != nil {
		b.Fatal(err)
	}
	c := client.NewClient(tr)
	if err := c.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	if _, err := c.Initialize(context.Background(), mcp.InitializeRequest{}); err != nil {
		b.Fatal(err)
	}
	return c, cmd
}

// bindOperators makes the fleet operators' group cluster-admin on the hub through RBAC.
func bindOperators(b *testing.B) {
	b.Helper()
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "bench-fleet-operators"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: fleet.OperatorGroup}}}
	_, err := shared.hub.Hub.Kube.RbacV1().ClusterRoleBindings().Create(context.Background(), crb, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		b.Fatal(err)
	}
}
