package sqlstore

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/schema"
	"github.com/scimkit/scim/shared/stored"
)

// Migration is one step of the store's schema, as Migrations lists it for a dialect. A step is either SQL or,
// where SQL cannot express it (recomputing what Go computes), Go code: Apply. Either way it records its
// Version in the table scim_migrations (version INTEGER PRIMARY KEY, applied TEXT), which the first step
// creates; that record is what New checks under WithoutMigrations, whatever tool applied the step.
type Migration struct {
	// Version numbers the steps 1, 2, …, in the order they must be applied. Released steps never change
	// what they do; new ones are appended.
	Version int
	// Name says what the step is for (say "groups"), for a migration tool's file name.
	Name string
	// SQL is the whole step in the dialect: its statements, then the INSERT that records Version. It is
	// empty for a Go step. Some PostgreSQL statements hold function bodies between $$ quotes, which a tool
	// that splits a file into statements must be told to keep whole (goose: StatementBegin/StatementEnd).
	SQL string
	// Apply, set only for a Go step, does the step through db, which should be a transaction (a *sql.Tx
	// from a migration tool such as goose's Go migrations, or Migrate's), and records Version.
	Apply func(ctx context.Context, db Querier) error
}

// Querier is what a Go migration step runs its statements through: a *sql.Tx, a *sql.Conn or a *sql.DB.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Migrations returns the steps that bring an empty database to the schema this version of the library
// uses, in order, for hosts that apply them with a migration tool of their own (goose, atlas, flyway, …)
// and open the store WithoutMigrations. Copy each step's SQL into the tool's files, in Version order; a Go
// step (Apply set, SQL empty) runs as a Go migration of the tool, or through Migrate, which applies any
// version the database lacks, so a tool may apply the SQL steps and leave the Go ones to Migrate. opts are
// New's: WithSchema changes what a Go step computes, the others change nothing here. It returns nil for an
// unknown dialect.
func Migrations(d Dialect, opts ...Option) []Migration {
	if d != Postgres && d != SQLite {
		return nil
	}
	s := &Store{dialect: d, rt: schema.User()}
	for _, o := range opts {
		o(s)
	}
	return s.steps()
}

// Migrate brings db's schema up to date, as New does unless WithoutMigrations: it applies, in order and in
// one transaction, every step of Migrations(d, opts...) that scim_migrations does not record. Replicas may
// run it at once (a PostgreSQL advisory lock, SQLite's write lock serialise them); on an up-to-date
// database it changes nothing. A database migrated by a newer version of the library, which records
// versions this one does not know, fails with a *VersionError and is left as it is. opts are New's (see
// Migrations).
func Migrate(ctx context.Context, db *sql.DB, d Dialect, opts ...Option) error {
	if d != Postgres && d != SQLite {
		return fmt.Errorf("sqlstore: unknown dialect %v", d)
	}
	s := &Store{db: db, dialect: d, rt: schema.User()}
	for _, o := range opts {
		o(s)
	}
	if err := s.migrate(ctx); err != nil {
		return fmt.Errorf("sqlstore: migrating: %w", classifyWith(err, s.temporary))
	}
	return nil
}

// WithoutMigrations makes New leave the schema to the host (its own migration tool applying Migrations, or
// Migrate at a time of its choosing) and only check it: New fails with a *VersionError unless the database
// records every step of this version of the library, and none that it does not know. A store never runs on
// a schema older than its code, nor on a newer one, whose steps it cannot know to be harmless to it.
func WithoutMigrations() Option { return func(s *Store) { s.noMigrate = true } }

// VersionError is the error of New and Migrate when the migrations a database records are not the library's:
// Missing lists the versions it lacks (New under WithoutMigrations; apply them first), Unknown those it
// records that this version of the library does not know (a newer version migrated the database).
type VersionError struct {
	Missing, Unknown []int
}

func (e *VersionError) Error() string {
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, "the database lacks migration versions "+versionList(e.Missing)+
			" (apply them from sqlstore.Migrations, or with sqlstore.Migrate)")
	}
	if len(e.Unknown) > 0 {
		parts = append(parts, "the database records migration versions "+versionList(e.Unknown)+
			fmt.Sprintf(" that this library (at version %d) does not know: a newer version of it migrated the database", len(migrations)))
	}
	return "sqlstore: " + strings.Join(parts, "; ")
}

// versionList writes sorted versions with runs as ranges: "1-4, 6".
func versionList(vs []int) string {
	var b strings.Builder
	for i := 0; i < len(vs); {
		j := i
		for j+1 < len(vs) && vs[j+1] == vs[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(vs[i]))
		if j > i {
			b.WriteString("-" + strconv.Itoa(vs[j]))
		}
		i = j + 1
	}
	return b.String()
}

// migration is one step of the schema, in each dialect. Steps are append-only: a released step never changes
// what it does to a database.
type migration struct {
	name             string // Migration.Name
	postgres, sqlite string
	// run, when set, is a step SQL cannot express, such as recomputing what Go computes (filter.Fold). Such a
	// step has no DDL, and is written to run on any later schema too: Migrate applies whatever versions a
	// database lacks, so it may follow later steps a host's migration tool applied from SQL.
	run func(s *Store, ctx context.Context, db Querier) error
}

// migrations brings an empty database to the current schema. The columns are the ones queries filter, sort
// and page by; data holds the whole user as JSON and search the same JSON with the strings of
// case-insensitive attributes folded (stored.FoldDocument), so that SQL compares exactly like the Go
// evaluator. seq is the creation order: stable listing and keyset cursors.
var migrations = []migration{
	{
		name: "users",
		postgres: `
CREATE TABLE scim_users (
	seq               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant            TEXT NOT NULL,
	id                TEXT NOT NULL,
	user_name         TEXT NOT NULL,
	user_name_fold    TEXT NOT NULL,
	external_id       TEXT,
	display_name_fold TEXT,
	active            BOOLEAN,
	created           TEXT NOT NULL,
	last_modified     TEXT NOT NULL,
	version           BIGINT NOT NULL,
	data              JSONB NOT NULL,
	search            JSONB NOT NULL
);
CREATE UNIQUE INDEX scim_users_id ON scim_users (tenant, id);
CREATE UNIQUE INDEX scim_users_user_name ON scim_users (tenant, user_name_fold);
CREATE INDEX scim_users_external_id ON scim_users (tenant, external_id);
CREATE INDEX scim_users_tenant_seq ON scim_users (tenant, seq);`,
		sqlite: `
CREATE TABLE scim_users (
	seq               INTEGER PRIMARY KEY AUTOINCREMENT,
	tenant            TEXT NOT NULL,
	id                TEXT NOT NULL,
	user_name         TEXT NOT NULL,
	user_name_fold    TEXT NOT NULL,
	external_id       TEXT,
	display_name_fold TEXT,
	active            INTEGER,
	created           TEXT NOT NULL,
	last_modified     TEXT NOT NULL,
	version           INTEGER NOT NULL,
	data              TEXT NOT NULL,
	search            TEXT NOT NULL
);
CREATE UNIQUE INDEX scim_users_id ON scim_users (tenant, id);
CREATE UNIQUE INDEX scim_users_user_name ON scim_users (tenant, user_name_fold);
CREATE INDEX scim_users_external_id ON scim_users (tenant, external_id);
CREATE INDEX scim_users_tenant_seq ON scim_users (tenant, seq);`,
	},
	{ // the outbox of WithOutbox: changes recorded in the transaction of their write
		name: "outbox",
		postgres: `
CREATE TABLE scim_outbox (
	id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant  TEXT NOT NULL,
	user_id TEXT NOT NULL,
	type    TEXT NOT NULL,
	version BIGINT NOT NULL,
	data    JSONB NOT NULL,
	created TEXT NOT NULL
);`,
		sqlite: `
CREATE TABLE scim_outbox (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	tenant  TEXT NOT NULL,
	user_id TEXT NOT NULL,
	type    TEXT NOT NULL,
	version INTEGER NOT NULL,
	data    TEXT NOT NULL,
	created TEXT NOT NULL
);`,
	},
	{ // the store's secrets: the key that seals cursors, shared by every replica
		name:     "keys",
		postgres: `CREATE TABLE scim_keys (name TEXT PRIMARY KEY, value TEXT NOT NULL);`,
		sqlite:   `CREATE TABLE scim_keys (name TEXT PRIMARY KEY, value TEXT NOT NULL);`,
	},
	{ // passwords only as the handler's hash, in a column of their own; plaintext that earlier versions kept
		// in the user's JSON, its search copy and the outbox is removed
		name: "password_hash",
		postgres: `
ALTER TABLE scim_users ADD COLUMN password_hash TEXT;
UPDATE scim_users SET data = data - 'password', search = search - 'password' WHERE data ? 'password' OR search ? 'password';
UPDATE scim_outbox SET data = data - 'password' WHERE data ? 'password';`,
		sqlite: `
ALTER TABLE scim_users ADD COLUMN password_hash TEXT;
UPDATE scim_users SET data = json_remove(data, '$.password'), search = json_remove(search, '$.password')
	WHERE json_type(data, '$.password') IS NOT NULL OR json_type(search, '$.password') IS NOT NULL;
UPDATE scim_outbox SET data = json_remove(data, '$.password') WHERE json_type(data, '$.password') IS NOT NULL;`,
	},
	// filter.Fold became the Unicode identity key (it was strings.ToLower): rows written before get the new
	// one, so that uniqueness and filters see them as they see new rows.
	{name: "refold", run: (*Store).refold},
	// Groups (scim.GroupStore): a group's attributes in scim_groups, without members; its members as one row
	// each in scim_members, indexed both ways, so that a membership change writes only its own rows and a
	// user's groups are an index range. displayName is unique per tenant without case, like userName.
	{
		name: "groups",
		postgres: `
CREATE TABLE scim_groups (
	seq               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant            TEXT NOT NULL,
	id                TEXT NOT NULL,
	display_name      TEXT NOT NULL,
	display_name_fold TEXT NOT NULL,
	external_id       TEXT,
	created           TEXT NOT NULL,
	last_modified     TEXT NOT NULL,
	version           BIGINT NOT NULL,
	data              JSONB NOT NULL,
	search            JSONB NOT NULL
);
CREATE UNIQUE INDEX scim_groups_id ON scim_groups (tenant, id);
CREATE UNIQUE INDEX scim_groups_display_name ON scim_groups (tenant, display_name_fold);
CREATE INDEX scim_groups_external_id ON scim_groups (tenant, external_id);
CREATE INDEX scim_groups_tenant_seq ON scim_groups (tenant, seq);
CREATE TABLE scim_members (
	tenant   TEXT NOT NULL,
	group_id TEXT NOT NULL,
	user_id  TEXT NOT NULL,
	PRIMARY KEY (tenant, group_id, user_id)
);
CREATE INDEX scim_members_user ON scim_members (tenant, user_id, group_id);`,
		sqlite: `
CREATE TABLE scim_groups (
	seq               INTEGER PRIMARY KEY AUTOINCREMENT,
	tenant            TEXT NOT NULL,
	id                TEXT NOT NULL,
	display_name      TEXT NOT NULL,
	display_name_fold TEXT NOT NULL,
	external_id       TEXT,
	created           TEXT NOT NULL,
	last_modified     TEXT NOT NULL,
	version           INTEGER NOT NULL,
	data              TEXT NOT NULL,
	search            TEXT NOT NULL
);
CREATE UNIQUE INDEX scim_groups_id ON scim_groups (tenant, id);
CREATE UNIQUE INDEX scim_groups_display_name ON scim_groups (tenant, display_name_fold);
CREATE INDEX scim_groups_external_id ON scim_groups (tenant, external_id);
CREATE INDEX scim_groups_tenant_seq ON scim_groups (tenant, seq);
CREATE TABLE scim_members (
	tenant   TEXT NOT NULL,
	group_id TEXT NOT NULL,
	user_id  TEXT NOT NULL,
	PRIMARY KEY (tenant, group_id, user_id)
) WITHOUT ROWID;
CREATE INDEX scim_members_user ON scim_members (tenant, user_id, group_id);`,
	},
	// Index walks whose pages cost the same at any depth: a user counter per tenant kept by triggers, and
	// the bookmarks of pages served (walk.go).
	walkMigration,
	// Declared resource types (resources.go): each resource as a document, and the keys of its keyed
	// attributes, unique where declared so (a partial unique index), for eq lookups.
	{
		name: "resources",
		postgres: `
CREATE TABLE scim_resources (
	seq           BIGINT GENERATED ALWAYS AS IDENTITY,
	tenant        TEXT NOT NULL,
	type          TEXT NOT NULL,
	id            TEXT NOT NULL,
	version       BIGINT NOT NULL,
	created       TEXT NOT NULL,
	last_modified TEXT NOT NULL,
	doc           JSONB NOT NULL,
	-- no index on seq alone: the planner would walk it through every tenant's rows for a tenant's batch
	CONSTRAINT scim_resources_id PRIMARY KEY (tenant, type, id)
);
CREATE INDEX scim_resources_tenant_seq ON scim_resources (tenant, type, seq);
CREATE TABLE scim_resource_keys (
	tenant TEXT NOT NULL,
	type   TEXT NOT NULL,
	attr   TEXT NOT NULL,
	fold   TEXT NOT NULL,
	id     TEXT NOT NULL,
	uniq   BOOLEAN NOT NULL,
	PRIMARY KEY (tenant, type, attr, fold, id)
);
CREATE UNIQUE INDEX scim_resource_keys_unique ON scim_resource_keys (tenant, type, attr, fold) WHERE uniq;
CREATE INDEX scim_resource_keys_id ON scim_resource_keys (id, tenant, type); -- id first: never a prefix planners take for a key lookup`,
		sqlite: `
CREATE TABLE scim_resources (
	seq           INTEGER PRIMARY KEY AUTOINCREMENT,
	tenant        TEXT NOT NULL,
	type          TEXT NOT NULL,
	id            TEXT NOT NULL,
	version       INTEGER NOT NULL,
	created       TEXT NOT NULL,
	last_modified TEXT NOT NULL,
	doc           TEXT NOT NULL
);
CREATE UNIQUE INDEX scim_resources_id ON scim_resources (tenant, type, id);
CREATE INDEX scim_resources_tenant_seq ON scim_resources (tenant, type, seq);
CREATE TABLE scim_resource_keys (
	tenant TEXT NOT NULL,
	type   TEXT NOT NULL,
	attr   TEXT NOT NULL,
	fold   TEXT NOT NULL,
	id     TEXT NOT NULL,
	uniq   INTEGER NOT NULL,
	PRIMARY KEY (tenant, type, attr, fold, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX scim_resource_keys_unique ON scim_resource_keys (tenant, type, attr, fold) WHERE uniq;
CREATE INDEX scim_resource_keys_id ON scim_resource_keys (id, tenant, type); -- id first: never a prefix planners take for a key lookup`,
	},
}

// refoldBatch is how many rows refold reads at a time: memory stays bounded whatever the table's size.
const refoldBatch = 500

// refold recomputes, with the current filter.Fold, the folded columns (user_name_fold, display_name_fold)
// and the search document of every row, writing only the rows that change. Two users that the new key
// identifies (say "straße" and "strasse", both stored under the old one) stay two accounts: the one whose new
// key another row holds already keeps its old key, so the unique index never fails the migration, and a
// later rename or create meets the new key.
func (s *Store) refold(ctx context.Context, conn Querier) error {
	type storedRow struct {
		seq                  int64
		tenant, userName     string
		fold                 string
		display              sql.NullString
		data, search         string
		newFold              string
		newDisplay           sql.NullString
		newSearch            string
		searchChanged, taken bool
	}
	for after := int64(0); ; {
		rows, err := conn.QueryContext(ctx, s.q(`SELECT seq, tenant, user_name, user_name_fold, display_name_fold, data, search
			FROM scim_users WHERE seq > ? ORDER BY seq LIMIT ?`), after, refoldBatch)
		if err != nil {
			return err
		}
		var batch []storedRow
		for rows.Next() {
			var r storedRow
			if err := rows.Scan(&r.seq, &r.tenant, &r.userName, &r.fold, &r.display, &r.data, &r.search); err != nil {
				rows.Close()
				return err
			}
			batch = append(batch, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		for _, r := range batch {
			after = r.seq
			var doc, oldSearch map[string]any
			if err := json.Unmarshal([]byte(r.data), &doc); err != nil {
				return fmt.Errorf("user seq %d: %w", r.seq, err)
			}
			if err := json.Unmarshal([]byte(r.search), &oldSearch); err != nil {
				return fmt.Errorf("user seq %d: %w", r.seq, err)
			}
			b, err := json.Marshal(stored.FoldDocument(s.rt, doc))
			if err != nil {
				return err
			}
			var newSearch map[string]any
			_ = json.Unmarshal(b, &newSearch) // compared as values: PostgreSQL's jsonb text differs from Go's
			r.newSearch = string(b)
			r.searchChanged = !reflect.DeepEqual(oldSearch, newSearch)
			r.newFold = filter.Fold(r.userName)
			r.newDisplay = r.display
			if dn, ok := doc["displayName"].(string); ok && dn != "" {
				r.newDisplay = sql.NullString{String: filter.Fold(dn), Valid: true}
			}
			if r.newFold == r.fold && r.newDisplay == r.display && !r.searchChanged {
				continue
			}
			if r.newFold != r.fold {
				var one int
				err := conn.QueryRowContext(ctx, s.q(`SELECT 1 FROM scim_users WHERE tenant = ? AND user_name_fold = ?`),
					r.tenant, r.newFold).Scan(&one)
				switch {
				case err == nil:
					r.newFold = r.fold // taken: keep the old key, see above
				case !errors.Is(err, sql.ErrNoRows):
					return err
				}
			}
			if _, err := conn.ExecContext(ctx, s.q(`UPDATE scim_users SET user_name_fold = ?, display_name_fold = ?, search = ?
				WHERE seq = ?`), r.newFold, r.newDisplay, r.newSearch, r.seq); err != nil {
				return fmt.Errorf("user seq %d: %w", r.seq, err)
			}
		}
	}
}

// cursorKey returns the key that seals cursors, creating it on first use; replicas racing to create it all
// end up with the one that was stored first.
func (s *Store) cursorKey(ctx context.Context) ([]byte, error) {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO scim_keys (name, value) VALUES ('cursor', ?) ON CONFLICT (name) DO NOTHING`),
		hex.EncodeToString(scim.NewCursorKey()))
	if err != nil {
		return nil, err
	}
	var v string
	if err := s.db.QueryRowContext(ctx, `SELECT value FROM scim_keys WHERE name = 'cursor'`).Scan(&v); err != nil {
		return nil, err
	}
	return hex.DecodeString(v)
}

// migrationLock is the PostgreSQL advisory lock key that serialises migrations across replicas.
const migrationLock = 0x5c1b_0001

// migrationsTable is the bookkeeping table: one row per applied version. The first step creates it too, so
// that the SQL of Migrations is complete on its own.
const migrationsTable = `CREATE TABLE IF NOT EXISTS scim_migrations (version INTEGER PRIMARY KEY, applied TEXT NOT NULL)`

// recordSQL is the statement that records version v as applied, with the time in the store's layout.
func recordSQL(d Dialect, v int) string {
	if d == Postgres {
		return fmt.Sprintf(`INSERT INTO scim_migrations (version, applied) VALUES (%d, to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"000Z"'));`, v)
	}
	return fmt.Sprintf(`INSERT INTO scim_migrations (version, applied) VALUES (%d, strftime('%%Y-%%m-%%dT%%H:%%M:%%f000000Z', 'now'));`, v)
}

// steps is Migrations for s's dialect and schema.
func (s *Store) steps() []Migration {
	out := make([]Migration, len(migrations))
	for i, m := range migrations {
		v := i + 1
		out[i] = Migration{Version: v, Name: m.name}
		if m.run != nil {
			run := m.run
			out[i].Apply = func(ctx context.Context, db Querier) error {
				if err := run(s, ctx, db); err != nil {
					return err
				}
				_, err := db.ExecContext(ctx, recordSQL(s.dialect, v))
				return err
			}
			continue
		}
		ddl := m.postgres
		if s.dialect == SQLite {
			ddl = m.sqlite
		}
		ddl = strings.TrimSpace(ddl)
		if !strings.HasSuffix(ddl, ";") {
			ddl += ";"
		}
		if v == 1 {
			ddl = migrationsTable + ";\n" + ddl
		}
		out[i].SQL = ddl + "\n" + recordSQL(s.dialect, v) + "\n"
	}
	return out
}

// recorded returns the versions scim_migrations records, in order; none when the table does not exist.
func (s *Store) recorded(ctx context.Context, db Querier) ([]int, error) {
	exists := `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'scim_migrations'`
	if s.dialect == Postgres {
		exists = `SELECT count(*) FROM (SELECT to_regclass('scim_migrations') AS t) r WHERE t IS NOT NULL`
	}
	var n int
	if err := db.QueryRowContext(ctx, exists).Scan(&n); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, nil
	}
	rows, err := db.QueryContext(ctx, `SELECT version FROM scim_migrations ORDER BY version`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var vs []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		vs = append(vs, v)
	}
	return vs, rows.Err()
}

// versionError compares the recorded versions with this library's: nil when they are exactly 1..N.
func versionError(recorded []int) *VersionError {
	have := make(map[int]bool, len(recorded))
	e := &VersionError{}
	for _, v := range recorded {
		have[v] = true
		if v < 1 || v > len(migrations) {
			e.Unknown = append(e.Unknown, v)
		}
	}
	for v := 1; v <= len(migrations); v++ {
		if !have[v] {
			e.Missing = append(e.Missing, v)
		}
	}
	if len(e.Missing) == 0 && len(e.Unknown) == 0 {
		return nil
	}
	return e
}

// checkVersion is New's check under WithoutMigrations: the database records every migration of this
// library and none it does not know.
func (s *Store) checkVersion(ctx context.Context) error {
	vs, err := s.recorded(ctx, s.db)
	if err != nil {
		return err
	}
	if e := versionError(vs); e != nil {
		return e
	}
	return nil
}

// migrate applies the migrations the database lacks, in one transaction that holds a lock for its whole
// duration, so replicas starting together apply each step exactly once.
func (s *Store) migrate(ctx context.Context) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	begin := "BEGIN"
	if s.dialect == SQLite {
		begin = "BEGIN IMMEDIATE" // take the write lock now, not at the first write
	}
	if _, err := conn.ExecContext(ctx, begin); err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	if s.dialect == Postgres {
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLock); err != nil {
			return err
		}
	}
	if _, err := conn.ExecContext(ctx, migrationsTable); err != nil {
		return err
	}
	vs, err := s.recorded(ctx, conn)
	if err != nil {
		return err
	}
	e := versionError(vs)
	if e != nil && len(e.Unknown) > 0 {
		return &VersionError{Unknown: e.Unknown} // migrated by a newer library: see VersionError
	}
	if e != nil {
		steps := s.steps()
		// Every missing version, in order, not only those above the highest: a host's tool may have
		// applied the SQL steps and left the Go ones to Migrate.
		for _, v := range e.Missing {
			m := steps[v-1]
			if m.SQL != "" {
				if _, err := conn.ExecContext(ctx, m.SQL); err != nil {
					return fmt.Errorf("step %d (%s): %w", v, m.Name, err)
				}
			}
			if m.Apply != nil {
				if err := m.Apply(ctx, conn); err != nil {
					return fmt.Errorf("step %d (%s): %w", v, m.Name, err)
				}
			}
		}
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return err
	}
	committed = true
	return nil
}
