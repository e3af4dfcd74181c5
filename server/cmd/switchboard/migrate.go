package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/switchboardhq/switchboard/server/store"
)

// migrate runs "switchboard migrate up|status": the schema migrations
// that serve otherwise applies when it starts (server/store/migrate.go).
func migrate(ctx context.Context, args []string) error {
	usage := "usage: switchboard migrate up [--dry-run] | status  [--database-url URL] [--data-dir DIR]"
	if len(args) == 0 || args[0] != "up" && args[0] != "status" {
		return fmt.Errorf("%s", usage)
	}
	fs := flag.NewFlagSet("migrate "+args[0], flag.ContinueOnError)
	dbURL := fs.String("database-url", env("DATABASE_URL", ""), "database (as for serve)")
	dataDir := fs.String("data-dir", env("SWITCHBOARD_DATA_DIR", "data"), "directory of the default SQLite database")
	dryRun := fs.Bool("dry-run", false, "up: print what would be applied, and check that a database from before versioned migrations can be adopted, changing nothing")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	st, err := store.Open(ctx, store.Config{URL: *dbURL, DataDir: *dataDir, Migrate: store.MigrateSkip})
	if err != nil {
		return err
	}
	defer st.Close()
	out := os.Stdout
	fmt.Fprintln(out, "database:", st.Describe())
	if args[0] == "status" {
		status, err := st.MigrationStatus(ctx)
		if err != nil {
			return err
		}
		printStatus(out, status)
		return nil
	}
	before, err := st.Migrate(ctx, *dryRun)
	if err != nil {
		return err
	}
	pending := before.Pending()
	verb := "applied"
	if *dryRun {
		verb = "would apply"
	}
	if len(before.RiverPending) > 0 {
		fmt.Fprintf(out, "%s River's migrations %v (the outbox's job tables)\n", verb, before.RiverPending)
	}
	if before.Unversioned && len(before.Migrations) > 0 {
		what := "marked"
		if *dryRun {
			what = "would mark"
		}
		fmt.Fprintf(out, "the database was created before versioned migrations and its schema equals %s: %s it as at version %d\n",
			before.Migrations[0].Name, what, before.Migrations[0].Version)
		pending = pending[1:]
	}
	for _, m := range pending {
		fmt.Fprintf(out, "%s %s\n", verb, m.Name)
		if *dryRun {
			for _, q := range m.Statements {
				fmt.Fprintf(out, "    %s;\n", strings.ReplaceAll(strings.TrimSuffix(strings.TrimSpace(q), ";"), "\n", "\n    "))
			}
		}
	}
	if len(pending) == 0 && len(before.RiverPending) == 0 && !before.Unversioned {
		fmt.Fprintf(out, "up to date at version %d\n", before.Current())
	}
	return nil
}

func printStatus(out io.Writer, s store.MigrationStatus) {
	if len(s.RiverPending) > 0 {
		fmt.Fprintf(out, "River (the outbox's job tables): versions %v pending\n", s.RiverPending)
	} else {
		fmt.Fprintln(out, "River (the outbox's job tables): up to date")
	}
	if s.Unversioned {
		fmt.Fprintln(out, "created before versioned migrations: `switchboard migrate up` (or serve) adopts it at the first version if its schema equals it")
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tAPPLIED\tFILE")
	for _, m := range s.Migrations {
		applied := "pending"
		if !m.Applied.IsZero() {
			applied = m.Applied.UTC().Format("2006-01-02 15:04:05Z")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\n", m.Version, applied, m.Name)
	}
	tw.Flush()
	fmt.Fprintf(out, "at version %d of %d; %d pending\n", s.Current(), s.Latest(), len(s.Pending()))
}
