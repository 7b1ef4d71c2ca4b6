package mustgather

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestTimestampFormats reads the timestamp files real archives carry: oc writes time.Now() with its
// monotonic reading (start and end lines), older or hand-made archives RFC 3339 or date(1) output.
func TestTimestampFormats(t *testing.T) {
	end := time.Date(2026, 11, 30, 10, 1, 2, 123456789, time.UTC)
	tests := []struct {
		name, text string
		want       time.Time
	}{
		{"oc, with the monotonic reading", "2026-11-30 10:00:00.000014673 +0000 UTC m=+0.000014673\n2026-11-30 10:01:02.123456789 +0000 UTC m=+62.382910061\n", end},
		{"oc, negative monotonic reading", "2026-11-30 10:01:02.123456789 +0000 UTC m=-0.382910061\n", end},
		{"Go time without the monotonic reading", "2026-11-30 10:01:02.123456789 +0000 UTC\n", end},
		{"Go time in another zone", "2026-11-30 11:01:02.123456789 +0100 CET m=+1.5\n", end},
		{"RFC 3339", "2026-11-30T10:01:02.123456789Z\n", end},
		{"RFC 3339 with an offset", "2026-11-30T12:01:02.123456789+02:00", end},
		{"date(1)", "Mon Nov 30 10:01:02 UTC 2026\n", end.Truncate(time.Second)},
		{"date -u +%s", "1796032862\n", end.Truncate(time.Second)},
		{"CRLF line ends", "2026-11-30 10:01:02.123456789 +0000 UTC m=+0.1\r\n", end},
		{"nothing readable", "soon\n", time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "timestamp"), []byte(tc.text), 0o600); err != nil {
				t.Fatal(err)
			}
			if got := readTimestamp(dir); !got.Equal(tc.want) {
				t.Errorf("readTimestamp(%q) = %v, want %v", tc.text, got, tc.want)
			}
		})
	}
}
