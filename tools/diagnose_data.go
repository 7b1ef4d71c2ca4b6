package tools

import (
	"encoding/json"

	"github.com/ocm-fleet/multicluster-mcp-server/ocm/diagnose"
)

// DiagnosisData is diagnose's structured answer: the counts, then the findings, most probable root
// cause first, as many as fit the answer's cap (Omitted says how many did not).
type DiagnosisData struct {
	Subject  string        `json:"subject" jsonschema:"What was diagnosed: the fleet, cluster <name>, add-on <name>"`
	Verdict  string        `json:"verdict" jsonschema:"ok (no finding) or findings"`
	Critical int           `json:"critical"`
	Warning  int           `json:"warning"`
	Info     int           `json:"info"`
	Findings []FindingItem `json:"findings"`
	Omitted  int           `json:"omitted,omitempty" jsonschema:"Findings left out to fit the answer; diagnose one cluster or add-on for them"`
	Checked  []string      `json:"checked" jsonschema:"The checks that ran, with what they could not read named as unknown"`
	TookMs   int64         `json:"tookMs"`
}

// FindingItem is one finding with its evidence.
type FindingItem struct {
	ID       string   `json:"id"`
	Severity string   `json:"severity" jsonschema:"critical, warning or info"`
	Subject  string   `json:"subject"`
	Title    string   `json:"title"`
	Looked   []string `json:"lookedAt,omitempty"`
	Evidence []string `json:"evidence,omitempty"`
	Next     string   `json:"next,omitempty"`
	Verify   []string `json:"verify,omitempty" jsonschema:"Tool calls that verify the finding"`
	Runbook  string   `json:"runbook,omitempty"`
}

// diagnosisData is the report as data, its findings cut to about maxBytes of JSON.
func diagnosisData(rep *diagnose.Report, maxBytes int) DiagnosisData {
	out := DiagnosisData{Subject: rep.Subject(), Verdict: "ok", Findings: []FindingItem{}, Checked: rep.Checked, TookMs: rep.Took.Milliseconds()}
	if out.Checked == nil {
		out.Checked = []string{}
	}
	used := 0
	for _, f := range rep.Findings {
		switch f.Severity {
		case diagnose.Critical:
			out.Critical++
		case diagnose.Warning:
			out.Warning++
		default:
			out.Info++
		}
		item := FindingItem{ID: f.ID, Severity: f.Severity.String(), Subject: f.Subject, Title: f.Title, Looked: f.Looked,
			Evidence: f.Evidence, Next: f.Next, Verify: f.Verify, Runbook: f.Runbook}
		size := 0
		if b, err := json.Marshal(item); err == nil {
			size = len(b)
		}
		if len(out.Findings) > 0 && used+size > maxBytes {
			out.Omitted++
			continue
		}
		used += size
		out.Findings = append(out.Findings, item)
	}
	if len(rep.Findings) > 0 {
		out.Verdict = "findings"
	}
	return out
}
