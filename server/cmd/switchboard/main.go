// Command switchboard runs the Switchboard server and its tools.
//
//	switchboard serve [flags]                 run the server
//	switchboard account create --name NAME    create an account, print its key
//	switchboard migrate up|status [flags]     apply or list the schema migrations
//	switchboard notifications watch [flags]   stream an employee's pushes
//	switchboard bench [flags]                 the measurements of docs/BENCHMARKS.md
//	switchboard fake-crm amocrm [flags]       a fake amoCRM account on this machine
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(ctx, os.Args[2:])
	case "account":
		err = account(ctx, os.Args[2:])
	case "migrate":
		err = migrate(ctx, os.Args[2:])
	case "notifications":
		err = notifications(ctx, os.Args[2:])
	case "bench":
		err = benchCmd(ctx, os.Args[2:])
	case "fake-crm":
		err = fakeCRM(ctx, os.Args[2:])
	case "help", "-h", "--help":
		usage()
		return
	default:
		fmt.Fprintf(os.Stderr, "unknown command %q\n\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "switchboard:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `Switchboard decides who sees each chat, who may answer, who becomes
responsible for a new client and who gets a push.

Usage:
  switchboard serve [flags]                  run the server (see serve -h)
  switchboard account create --name NAME     create an account and print its admin key
  switchboard migrate up [--dry-run]         apply the pending schema migrations (serve does on start)
  switchboard migrate status                 list the schema migrations and which are applied
  switchboard notifications watch [flags]    stream an employee's push decisions
  switchboard bench [flags]                  measure routing, access checks and streams
  switchboard fake-crm amocrm [flags]        run a fake amoCRM account on this machine
`)
}

// env returns the environment variable's value, or def.
func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func envBool(name string) bool {
	v := strings.ToLower(os.Getenv(name))
	return v == "1" || v == "true" || v == "yes"
}

func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}
