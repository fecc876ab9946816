package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/schema"
)

// migrationDB is an empty database of one dialect, opened raw (no store), and a way to open a store over it.
type migrationDB struct {
	dialect Dialect
	db      *sql.DB
	open    func(ctx context.Context, opts ...Option) (*Store, error)
}

// migrationDBs runs f against an empty database of every dialect this machine can run.
func migrationDBs(t *testing.T, f func(t *testing.T, m migrationDB)) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "scim.db")
		db, err := sql.Open("sqlite", sqliteDSN(path))
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		f(t, migrationDB{SQLite, db, func(ctx context.Context, opts ...Option) (*Store, error) {
			return openSQLite(ctx, path, opts...)
		}})
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := freshPostgres(t)
		db, err := sql.Open("pgx", dsn)
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		f(t, migrationDB{Postgres, db, func(ctx context.Context, opts ...Option) (*Store, error) {
			return openPostgres(ctx, dsn, opts...)
		}})
	})
}

// applyByHand applies steps as a migration tool does: each in a transaction of its own, its SQL as one
// script, a Go step through its Apply (goose's Go migrations get such a *sql.Tx).
func applyByHand(t *testing.T, db *sql.DB, steps []Migration) {
	t.Helper()
	ctx := context.Background()
	for _, m := range steps {
		tx, err := db.BeginTx(ctx, nil)
		require.NoError(t, err)
		if m.SQL != "" {
			_, err = tx.ExecContext(ctx, m.SQL)
		} else {
			err = m.Apply(ctx, tx)
		}
		require.NoError(t, err, "step %d (%s)", m.Version, m.Name)
		require.NoError(t, tx.Commit())
	}
}

// migratedRoundTrip writes and reads a user and a group through s.
func migratedRoundTrip(t *testing.T, s *Store) {
	t.Helper()
	ctx := scim.ContextWithTenant(context.Background(), "t")
	_, err := s.Create(ctx, user("Ann@example.com"))
	require.NoError(t, err)
	e, err := filter.Parse(schema.User(), `userName eq "ann@EXAMPLE.com"`)
	require.NoError(t, err)
	page, err := s.List(ctx, scim.Query{Filter: e, StartIndex: 1, Count: 10})
	require.NoError(t, err)
	require.Len(t, page.Users, 1)
	require.Equal(t, "id-Ann@example.com", page.Users[0].ID)
	require.Equal(t, 1, page.TotalResults)
	_, err = s.CreateGroup(ctx, group("g1", "Staff", "id-Ann@example.com"))
	require.NoError(t, err)
	got, err := s.GetGroup(ctx, "g1", scim.GroupRead{MaxMembers: 10})
	require.NoError(t, err)
	require.Len(t, got.Members, 1)
}

func TestMigrationsList(t *testing.T) {
	for _, d := range []Dialect{SQLite, Postgres} {
		steps := Migrations(d)
		require.Len(t, steps, len(migrations), d.String())
		for i, m := range steps {
			require.Equal(t, i+1, m.Version)
			require.NotEmpty(t, m.Name)
			require.True(t, (m.SQL == "") != (m.Apply == nil), "step %d is SQL or Go, not both", m.Version)
		}
		require.Contains(t, steps[0].SQL, "CREATE TABLE IF NOT EXISTS scim_migrations")
	}
	require.Nil(t, Migrations(Dialect(9)))
}

// TestMigrationsByHand: the exported steps, applied as a migration tool applies them, give a database that
// New accepts WithoutMigrations and that works; and the same schema as Migrate's.
func TestMigrationsByHand(t *testing.T) {
	migrationDBs(t, func(t *testing.T, m migrationDB) {
		ctx := context.Background()
		applyByHand(t, m.db, Migrations(m.dialect))
		s, err := m.open(ctx, WithoutMigrations())
		require.NoError(t, err)
		defer s.Close()
		migratedRoundTrip(t, s)
		rows, err := m.db.Query(`SELECT applied FROM scim_migrations`)
		require.NoError(t, err)
		for rows.Next() {
			var applied string
			require.NoError(t, rows.Scan(&applied))
			_, err := time.Parse(timeFormat, applied)
			require.NoError(t, err, "the SQL records the time as Migrate does")
		}
		require.NoError(t, rows.Close())
		if m.dialect == SQLite {
			other, err := sql.Open("sqlite", sqliteDSN(filepath.Join(t.TempDir(), "auto.db")))
			require.NoError(t, err)
			defer other.Close()
			require.NoError(t, Migrate(ctx, other, SQLite))
			require.Equal(t, sqliteSchema(t, other), sqliteSchema(t, s.db))
		}
	})
}

// sqliteSchema is every table, index and trigger of db as SQLite records it.
func sqliteSchema(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master
		WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name`)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	return out
}

// TestWithoutMigrationsChecksVersion: New WithoutMigrations never runs on an empty, old or newer schema, and
// says which versions are missing or unknown.
func TestWithoutMigrationsChecksVersion(t *testing.T) {
	migrationDBs(t, func(t *testing.T, m migrationDB) {
		ctx := context.Background()
		n := len(migrations)
		open := func() *VersionError {
			t.Helper()
			s, err := m.open(ctx, WithoutMigrations())
			require.Error(t, err)
			require.Nil(t, s)
			var ve *VersionError
			require.True(t, errors.As(err, &ve), "%v", err)
			return ve
		}

		ve := open() // empty
		require.Equal(t, versionRange(1, n), ve.Missing)
		require.Empty(t, ve.Unknown)
		require.Contains(t, ve.Error(), "lacks migration versions 1-")
		_, err := m.db.Exec(`SELECT 1 FROM scim_migrations`)
		require.Error(t, err, "the check creates nothing")

		steps := Migrations(m.dialect)
		applyByHand(t, m.db, steps[:4]) // old: a library from before groups
		ve = open()
		require.Equal(t, versionRange(5, n), ve.Missing)
		require.Contains(t, ve.Error(), "lacks migration versions 5-")

		// A tool that runs the SQL steps only: the Go one is missing until Migrate applies it.
		var sqlOnly []Migration
		for _, st := range steps[4:] {
			if st.SQL != "" {
				sqlOnly = append(sqlOnly, st)
			}
		}
		applyByHand(t, m.db, sqlOnly)
		ve = open()
		require.Equal(t, []int{5}, ve.Missing)
		require.NoError(t, Migrate(ctx, m.db, m.dialect))
		s, err := m.open(ctx, WithoutMigrations())
		require.NoError(t, err)
		migratedRoundTrip(t, s)
		require.NoError(t, s.Close())

		// Newer: a later library recorded a version this one does not know. Neither mode runs on it.
		_, err = m.db.Exec(recordSQL(m.dialect, n+1))
		require.NoError(t, err)
		ve = open()
		require.Empty(t, ve.Missing)
		require.Equal(t, []int{n + 1}, ve.Unknown)
		require.Contains(t, ve.Error(), "newer version")
		err = Migrate(ctx, m.db, m.dialect)
		require.ErrorAs(t, err, &ve)
		require.Equal(t, []int{n + 1}, ve.Unknown)
		_, err = m.open(ctx)
		require.ErrorAs(t, err, &ve)
	})
}

// TestMigrateIdempotent: Migrate on an up-to-date database changes nothing, whether Migrate or New migrated
// it, and leaves what New WithoutMigrations accepts.
func TestMigrateIdempotent(t *testing.T) {
	migrationDBs(t, func(t *testing.T, m migrationDB) {
		ctx := context.Background()
		count := func() int {
			var n int
			require.NoError(t, m.db.QueryRow(`SELECT count(*) FROM scim_migrations`).Scan(&n))
			return n
		}
		require.NoError(t, Migrate(ctx, m.db, m.dialect))
		require.NoError(t, Migrate(ctx, m.db, m.dialect))
		require.Equal(t, len(migrations), count())
		s, err := m.open(ctx) // migrating too
		require.NoError(t, err)
		migratedRoundTrip(t, s)
		require.NoError(t, s.Close())
		require.NoError(t, Migrate(ctx, m.db, m.dialect))
		require.Equal(t, len(migrations), count())
		s, err = m.open(ctx, WithoutMigrations())
		require.NoError(t, err)
		require.NoError(t, s.Close())
	})
}

// versionRange is from, from+1, …, to.
func versionRange(from, to int) []int {
	var out []int
	for v := from; v <= to; v++ {
		out = append(out, v)
	}
	return out
}
