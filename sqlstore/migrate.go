package sqlstore

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/internal/stored"
)

// migration is one step of the schema, in each dialect. Steps are append-only: a released step never changes.
type migration struct {
	postgres, sqlite string
	// run, when set, runs after the DDL in the same transaction: a data change SQL cannot express, such as
	// recomputing what Go computes (filter.Fold).
	run func(s *Store, ctx context.Context, conn *sql.Conn) error
}

// migrations brings an empty database to the current schema. The columns are the ones queries filter, sort
// and page by; data holds the whole user as JSON and search the same JSON with the strings of
// case-insensitive attributes folded (stored.FoldDocument), so that SQL compares exactly like the Go
// evaluator. seq is the creation order: stable listing and keyset cursors.
var migrations = []migration{
	{
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
		postgres: `CREATE TABLE scim_keys (name TEXT PRIMARY KEY, value TEXT NOT NULL);`,
		sqlite:   `CREATE TABLE scim_keys (name TEXT PRIMARY KEY, value TEXT NOT NULL);`,
	},
	{ // passwords only as the handler's hash, in a column of their own; plaintext that earlier versions kept
		// in the user's JSON, its search copy and the outbox is removed
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
	{run: (*Store).refold},
	// Groups (scim.GroupStore): a group's attributes in scim_groups, without members; its members as one row
	// each in scim_members, indexed both ways, so that a membership change writes only its own rows and a
	// user's groups are an index range. displayName is unique per tenant without case, like userName.
	{
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
}

// refoldBatch is how many rows refold reads at a time: memory stays bounded whatever the table's size.
const refoldBatch = 500

// refold recomputes, with the current filter.Fold, the folded columns (user_name_fold, display_name_fold)
// and the search document of every row, writing only the rows that change. Two users that the new key
// identifies (say "straße" and "strasse", both stored under the old one) stay two accounts: the one whose new
// key another row holds already keeps its old key, so the unique index never fails the migration, and a
// later rename or create meets the new key.
func (s *Store) refold(ctx context.Context, conn *sql.Conn) error {
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
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS scim_migrations (
		version INTEGER PRIMARY KEY, applied TEXT NOT NULL)`); err != nil {
		return err
	}
	var current sql.NullInt64
	if err := conn.QueryRowContext(ctx, `SELECT max(version) FROM scim_migrations`).Scan(&current); err != nil {
		return err
	}
	for v := int(current.Int64) + 1; v <= len(migrations); v++ {
		m := migrations[v-1]
		ddl := m.postgres
		if s.dialect == SQLite {
			ddl = m.sqlite
		}
		if ddl != "" {
			if _, err := conn.ExecContext(ctx, ddl); err != nil {
				return fmt.Errorf("step %d: %w", v, err)
			}
		}
		if m.run != nil {
			if err := m.run(s, ctx, conn); err != nil {
				return fmt.Errorf("step %d: %w", v, err)
			}
		}
		if _, err := conn.ExecContext(ctx, s.q(`INSERT INTO scim_migrations (version, applied) VALUES (?, ?)`), v, now()); err != nil {
			return err
		}
	}
	if int(current.Int64) > len(migrations) {
		return fmt.Errorf("the database is at schema version %d, newer than this library's %d", current.Int64, len(migrations))
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return err
	}
	committed = true
	return nil
}
