package tools

import (
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/output"
)

// Elicitation: the preview asks the client for input (the person's approval, with the diff) and carries
// the change's approval as its request state. The client answers by calling again with the answer and
// that state (clients of earlier protocol versions are asked through elicitation/create by the MCP
// library, which calls the handler again the same way). The state is checked exactly like an approval
// presented in the two-step flow: bound to caller, cluster, command, manifest and versions, once.

// elicitID names the approval question in the input requests and responses.
const elicitID = "approve"

// clientElicits says whether the caller's client declared the elicitation capability.
func clientElicits(session server.ClientSession) bool {
	s, ok := session.(server.SessionWithClientInfo)
	return ok && s.GetClientCapabilities().Elicitation != nil
}

// askApproval is the answer that asks the person to approve the change shown by the diff.
func askApproval(w writeChange, diff, token string) *mcp.CallToolResult {
	msg := fmt.Sprintf("Approve this change on cluster %s?\n\nkubectl %s\n\n%s", w.target.Name,
		strings.Join(w.binding.Command, " "), output.Truncate(diff, maxElicitDiff, "preview a narrower change"))
	return server.NewInputRequestBuilder(token).Elicit(elicitID, mcp.ElicitationParams{
		Message: msg,
		RequestedSchema: map[string]any{
			"type": "object",
			"properties": map[string]any{
				"approve": map[string]any{"type": "boolean", "title": "Approve", "description": "Run this change now"},
			},
			"required": []string{"approve"},
		},
	}).ToolResult()
}

// elicitAnswer reads the person's answer from a call that brings one: answered is false for a first
// call; approved is true only for an accept with approve set.
func elicitAnswer(req mcp.CallToolRequest) (approved, answered bool) {
	res := server.ElicitationResponse(req.Params.InputResponses, elicitID)
	if res == nil || req.Params.RequestState == "" {
		return false, false
	}
	if res.Action != mcp.ElicitationResponseActionAccept {
		return false, true
	}
	content, _ := res.Content.(map[string]any)
	yes, _ := content["approve"].(bool)
	return yes, true
}
