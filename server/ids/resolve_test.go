package ids_test

import (
	"context"
	"errors"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"

	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/ids"
)

func TestResolve(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("boom")
	load := func(_ context.Context, id int64) (string, error) {
		switch id {
		case 7:
			return "seven", nil
		case 8:
			return "", boom
		}
		return "", errs.NotFound("row", id) // what a scoped query of another account's id gives
	}
	if v, err := ids.Resolve(ctx, "employee_id", "employee", "7", load); err != nil || v != "seven" {
		t.Fatalf("Resolve(7) = %q, %v", v, err)
	}
	if _, err := ids.Resolve(ctx, "employee_id", "employee", "8", load); !errors.Is(err, boom) {
		t.Fatalf("Resolve(8) = %v, want the load's error", err)
	}
	for _, raw := range []string{"9", "x", ""} {
		_, err := ids.Resolve(ctx, "employee_id", "employee", raw, load)
		var e *errs.Error
		if !errors.Is(err, errs.ErrNotFound) || !errors.As(err, &e) || e.Message != "employee "+raw+" not found" {
			t.Fatalf("Resolve(%q) = %v, want employee %s not found", raw, err, raw)
		}
		if ri, ok := e.Details[0].(*errdetails.ResourceInfo); !ok || ri.ResourceName != raw || ri.Description[:len("employee_id:")] != "employee_id:" {
			t.Fatalf("Resolve(%q) details = %v, want the field named", raw, e.Details)
		}
	}
}

func TestResolveAll(t *testing.T) {
	found := func(_ context.Context, want []int64) ([]int64, error) { return []int64{1, 3}, nil }
	got, err := ids.ResolveAll(context.Background(), "channel_ids", "channel", []string{"3", "1"}, found)
	if err != nil || len(got) != 2 || got[0] != 3 || got[1] != 1 {
		t.Fatalf("ResolveAll = %v, %v; want [3 1] in the request's order", got, err)
	}
	_, err = ids.ResolveAll(context.Background(), "channel_ids", "channel", []string{"1", "2"}, found)
	var e *errs.Error
	if !errors.As(err, &e) || !errors.Is(err, errs.ErrNotFound) || e.Message != "channel 2 not found" {
		t.Fatalf("ResolveAll with a missing id = %v", err)
	}
	if ri := e.Details[0].(*errdetails.ResourceInfo); ri.Description[:len("channel_ids[1]:")] != "channel_ids[1]:" {
		t.Fatalf("ResolveAll names %q, want channel_ids[1]", ri.Description)
	}
}
