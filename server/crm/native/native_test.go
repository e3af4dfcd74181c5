package native_test

import (
	"errors"
	"testing"

	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/crm/native"
)

// The built-in CRM keeps the directory here and has nothing to connect.
func TestNativeIsLocal(t *testing.T) {
	if crm.OwnsDirectory(native.Kind) {
		t.Error("the native CRM owns the directory; want it edited here")
	}
	if crm.Supported(native.Kind) {
		t.Error("the native CRM can be connected; want not")
	}
	if _, err := crm.Open(crm.Config{Kind: native.Kind}); !errors.Is(err, crm.ErrUnsupported) {
		t.Errorf("Open(NATIVE) = %v, want ErrUnsupported", err)
	}
	if _, err := crm.ParseWebhook(native.Kind, nil); !errors.Is(err, crm.ErrUnsupported) {
		t.Errorf("ParseWebhook(NATIVE) = %v, want ErrUnsupported", err)
	}
	// A kind that can be chosen before it has a connector is an external
	// CRM: it owns the directory.
	if !crm.OwnsDirectory("ZOHO") {
		t.Error("ZOHO does not own the directory")
	}
}
