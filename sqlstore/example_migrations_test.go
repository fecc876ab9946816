package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"

	"github.com/scimkit/scim/sqlstore"
)

// A host that runs its own migration tool writes each step to a file of its own; Go steps (no SQL) run as
// Go migrations through Apply, or are left to sqlstore.Migrate. It then opens the store with
// sqlstore.WithoutMigrations, which checks the versions scim_migrations records.
func ExampleMigrations() {
	for _, m := range sqlstore.Migrations(sqlstore.SQLite) {
		kind := "sql"
		if m.Apply != nil {
			kind = "go"
		}
		fmt.Printf("%04d_scim_%s (%s)\n", m.Version, m.Name, kind)
	}
	// Output:
	// 0001_scim_users (sql)
	// 0002_scim_outbox (sql)
	// 0003_scim_keys (sql)
	// 0004_scim_password_hash (sql)
	// 0005_scim_refold (go)
	// 0006_scim_groups (sql)
	// 0007_scim_walk (sql)
	// 0008_scim_resources (sql)
}

// The store opened over a database whose schema a migration tool keeps (docs/sqlstore.md).
func ExampleWithoutMigrations() {
	ctx := context.Background()
	db, err := sql.Open("pgx", os.Getenv("DATABASE_URL"))
	if err != nil {
		return
	}
	// snippet:own-migrations
	for _, m := range sqlstore.Migrations(sqlstore.Postgres) {
		// write m.SQL to the tool's file for step m.Version, say 0001_scim_users.sql; a Go step: see below
		_ = m
	}
	store, err := sqlstore.New(ctx, db, sqlstore.Postgres, sqlstore.WithoutMigrations())
	// end
	if err == nil {
		defer store.Close()
	}
}
