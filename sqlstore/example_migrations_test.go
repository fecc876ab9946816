package sqlstore_test

import (
	"fmt"

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
}
