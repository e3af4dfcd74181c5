package main

import (
	"context"
	"fmt"
)

func notifications(ctx context.Context, args []string) error {
	return fmt.Errorf("notifications watch is not available yet")
}
