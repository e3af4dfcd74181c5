package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"connectrpc.com/connect"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/client"
)

// watchOptions configure "notifications watch".
type watchOptions struct {
	urls       []string
	key        string
	employee   string
	general    bool
	cursorFile string
	cursor     string
	// retry is the longest wait between reconnection attempts.
	retry time.Duration
}

func notifications(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "watch" {
		return fmt.Errorf("usage: switchboard notifications watch [--url URL[,URL…]] --key KEY [--employee ID | --general-chat] [--cursor-file FILE]")
	}
	fs := flag.NewFlagSet("notifications watch", flag.ContinueOnError)
	urls := fs.String("url", env("SWITCHBOARD_URL", "http://127.0.0.1:8080"), "server URL; several, comma-separated, are tried in turn (env SWITCHBOARD_URL)")
	key := fs.String("key", env("SWITCHBOARD_KEY", ""), "employee token (its own pushes) or account API key (env SWITCHBOARD_KEY)")
	employee := fs.String("employee", "", "employee id to watch (with an account API key)")
	general := fs.Bool("general-chat", false, "watch the general chat (with an account API key)")
	cursorFile := fs.String("cursor-file", "", "file that keeps the last cursor, so a restart resumes where it stopped")
	cursor := fs.String("cursor", "", `resume after this cursor ("0": from the oldest kept decision; default: new decisions only)`)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *key == "" {
		return fmt.Errorf("--key (or SWITCHBOARD_KEY) is required")
	}
	return watch(ctx, watchOptions{urls: splitList(*urls), key: *key, employee: *employee, general: *general,
		cursorFile: *cursorFile, cursor: *cursor, retry: 10 * time.Second}, os.Stdout, os.Stderr)
}

// watch prints an employee's push decisions as they arrive, like the mobile
// app would show them. It survives server restarts and replica failures:
// it reconnects (to the next URL, with backoff) and resumes after its last
// cursor, so it shows every decision once.
func watch(ctx context.Context, o watchOptions, out, log io.Writer) error {
	cursor := o.cursor
	if o.cursorFile != "" {
		if b, err := os.ReadFile(o.cursorFile); err == nil {
			cursor = strings.TrimSpace(string(b))
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	save := func(c string) error {
		cursor = c
		if o.cursorFile == "" {
			return nil
		}
		tmp := o.cursorFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(c+"\n"), 0o600); err != nil {
			return err
		}
		return os.Rename(tmp, o.cursorFile)
	}
	backoff := 200 * time.Millisecond
	for attempt := 0; ctx.Err() == nil; attempt++ {
		url := o.urls[attempt%len(o.urls)]
		c := client.New(url, o.key, client.Connect, client.HTTPClient(client.Connect, true))
		stream, err := c.Notification.Subscribe(ctx, &pb.SubscribeRequest{EmployeeId: o.employee, GeneralChat: o.general, Cursor: cursor})
		if err == nil {
			for stream.Receive() {
				backoff = 200 * time.Millisecond
				switch ev := stream.Msg().Event.(type) {
				case *pb.SubscribeResponse_Decision:
					fmt.Fprintln(out, formatDecision(ev.Decision))
					err = save(ev.Decision.Cursor)
				case *pb.SubscribeResponse_CaughtUp:
					fmt.Fprintf(log, "connected to %s; caught up at %s", url, ev.CaughtUp.Cursor)
					if ev.CaughtUp.HistoryTruncated {
						fmt.Fprint(log, " (older decisions were pruned)")
					}
					fmt.Fprintln(log)
					err = save(ev.CaughtUp.Cursor)
				case *pb.SubscribeResponse_Heartbeat:
					err = save(ev.Heartbeat.Cursor)
				}
				if err != nil {
					return err
				}
			}
			err = stream.Err()
			_ = stream.Close()
		}
		if ctx.Err() != nil {
			return nil
		}
		switch connect.CodeOf(err) {
		case connect.CodeUnauthenticated, connect.CodePermissionDenied, connect.CodeInvalidArgument, connect.CodeNotFound:
			return err // reconnecting will not help
		}
		why := "stream ended"
		if err != nil {
			why = err.Error()
		}
		fmt.Fprintf(log, "%s: %s; reconnecting in %s from %s\n", url, why, backoff, cursorOrStart(cursor))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, o.retry)
	}
	return nil
}

func cursorOrStart(c string) string {
	if c == "" {
		return "now"
	}
	return "cursor " + c
}

// formatDecision renders a decision as one line, as a push would read.
func formatDecision(d *pb.NotificationDecision) string {
	who := "employee " + d.EmployeeId
	if d.GeneralChat {
		who = "general chat"
	}
	reason := strings.TrimPrefix(d.Reason.String(), "NOTIFICATION_REASON_")
	line := fmt.Sprintf("%s  %-20s %s · %s · %s", d.CreateTime.AsTime().Local().Format("15:04:05"), reason, who, d.ChannelName, d.ClientName)
	if d.Preview != "" {
		line += fmt.Sprintf(" · %q", d.Preview)
	}
	return line + "  — " + d.Explanation + "  [" + d.Cursor + "]"
}
