// Command generate writes the next migration file of each dialect
// (server/store/migrations/postgres and sqlite) from the ent schema:
//
//	go run ./server/store/migrations/generate -name what_changed -dev-url postgres://…
//	go run ./server/store/migrations/generate -hash
//
// `make migration NAME=what_changed` runs the first on the local
// PostgreSQL; `make migration-hash` the second, which rewrites atlas.sum
// after a reviewed change of a file. Run from the repository's root.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"regexp"
	"time"

	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/store/migrations"
)

func main() {
	name := flag.String("name", "", "what the migration changes, in lower_snake_case")
	devURL := flag.String("dev-url", os.Getenv("DEV_DATABASE_URL"), "a PostgreSQL database in which a scratch schema may be created and dropped (env DEV_DATABASE_URL)")
	hash := flag.Bool("hash", false, "only rewrite each directory's atlas.sum from its files")
	flag.Parse()
	if err := run(*name, *devURL, *hash); err != nil {
		fmt.Fprintln(os.Stderr, "generate:", err)
		os.Exit(1)
	}
}

func run(name, devURL string, hash bool) error {
	ctx := context.Background()
	dialects := []string{migrations.SQLite, migrations.Postgres}
	if hash {
		for _, d := range dialects {
			dir, err := store.MigrationsDir(d)
			if err != nil {
				return err
			}
			if err := store.HashMigrations(dir); err != nil {
				return err
			}
			fmt.Println("rewrote", dir+"/atlas.sum")
		}
		return nil
	}
	if !regexp.MustCompile(`^[a-z][a-z0-9_]*$`).MatchString(name) {
		return fmt.Errorf("-name %q: say what changes, in lower_snake_case (e.g. add_contact_email)", name)
	}
	if devURL == "" {
		return fmt.Errorf("-dev-url: the PostgreSQL migration is planned in a scratch schema of a PostgreSQL database")
	}
	version := time.Now().UTC().Format("20060102150405")
	wrote := 0
	for _, d := range dialects {
		dir, err := store.MigrationsDir(d)
		if err != nil {
			return err
		}
		file, _, err := store.DiffMigrations(ctx, store.DiffOptions{Dialect: d, Dir: dir, DevURL: devURL, Name: name, Version: version})
		if err != nil {
			return err
		}
		if file == "" {
			fmt.Printf("%s: the migrations already match the ent schema\n", d)
			continue
		}
		wrote++
		fmt.Printf("%s: wrote %s/%s; review it and commit it with atlas.sum\n", d, dir, file)
	}
	if wrote == 1 {
		fmt.Println("only one dialect changed: check that is intended")
	}
	return nil
}
