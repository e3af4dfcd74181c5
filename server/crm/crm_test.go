package crm_test

import (
	"testing"

	"github.com/switchboardhq/switchboard/server/crm"
)

func TestHasMarker(t *testing.T) {
	tests := []struct {
		s, marker string
		want      bool
	}{
		{"Mary, WhatsApp #sb-1-42", "#sb-1-42", true},
		{"Mary, WhatsApp #sb-1-42", "#sb-1-4", false},
		{"Mary #sb-1-4 and #sb-1-42", "#sb-1-42", true},
		{"Mary #sb-1-42 and #sb-1-4", "#sb-1-4", true},
		{"log\n#sbl7-100", "#sbl7-100", true},
		{"log\n#sbl7-1000", "#sbl7-100", false},
		{"#sbm5.", "#sbm5", true},
		{"", "#sbm5", false},
	}
	for _, tt := range tests {
		if got := crm.HasMarker(tt.s, tt.marker); got != tt.want {
			t.Errorf("crm.HasMarker(%q, %q) = %v", tt.s, tt.marker, got)
		}
	}
}
