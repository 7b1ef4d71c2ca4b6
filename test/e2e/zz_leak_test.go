package e2e

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestNoCredentialInOutputOrLogs runs last (files are taken in name order): no tool result and no server
// log line of the whole suite may contain a ManagedServiceAccount token, nor any token a test issued.
func TestNoCredentialInOutputOrLogs(t *testing.T) {
	secrets, err := env.fleet.Hub.Kube.CoreV1().Secrets("").List(context.Background(), metav1.ListOptions{
		LabelSelector: "authentication.open-cluster-management.io/is-managed-serviceaccount=true",
	})
	if err != nil {
		t.Fatal(err)
	}
	tokens := append([]string(nil), env.tokens...)
	for _, s := range secrets.Items {
		tokens = append(tokens, string(s.Data["token"]))
	}
	if len(tokens) < 3 {
		t.Fatalf("only %d tokens to look for: the suite did not exercise credentials", len(tokens))
	}
	seen := env.seen.String()
	if len(seen) < 1000 {
		t.Fatalf("only %d bytes of output recorded", len(seen))
	}
	for _, tok := range tokens {
		parts := strings.Split(tok, ".")
		signature := parts[len(parts)-1]
		if strings.Contains(seen, tok) || (len(signature) > 20 && strings.Contains(seen, signature)) {
			t.Errorf("a token (ending %q) appears in tool output or server logs", signature[max(0, len(signature)-6):])
		}
	}
	t.Logf("scanned %d bytes of tool output and logs for %d tokens", len(seen), len(tokens))
}
