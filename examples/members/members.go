// Package members is a scim.Store over a table the host app already has: its members table in SQLite, with
// integer ids, an org_id for the customer account and only the columns the app uses, one per attribute of
// Entra ID's default mapping. No JSON copy of the user, no password column: what the table has no column for
// is not declared (Schema), so the handler never passes it and never returns it.
//
//	members(id, org_id, user_name, email, display_name, full_name, is_disabled, created_at, updated_at)
//
// What it shows (each point is a decision a host makes for its own table):
//
//   - Ids: the Store assigns them, the table's integer key as a decimal string; the handler's UUID is
//     dropped. Rows that existed before SCIM already have ids, and are SCIM users as they are. The key is
//     AUTOINCREMENT: without it SQLite gives a deleted row's id (if it was the largest) to the next insert,
//     and Entra ID, which keeps the ids of users it deleted, would reach someone else.
//   - Versions: a version column bumped by the Store's own updates and, when the app edits a row itself, by
//     an AFTER UPDATE trigger, so every change gives a new ETag and a client's stale If-Match fails. (A
//     version derived from updated_at would miss edits that leave it as it was, and two writes within its
//     precision.)
//   - userName ↔ user_name, unique per org without case: a user_name_key column holds filter.Fold(user_name)
//     (Unicode case folding and NFKC, computed in Go, as every other part of the library compares
//     userName) with a unique index on (org_id, user_name_key). SQLite's COLLATE NOCASE would be simpler but
//     folds ASCII letters only: "Élodie" and "élodie" would be two users. Code of the app that writes
//     user_name itself must write UserNameKey(user_name) beside it.
//   - active ↔ is_disabled, inverted; the column is NOT NULL, so an unassigned active is stored as active
//     and comes back true (scimtest's Options.Defaults says so).
//   - emails ↔ email: the table keeps one address, the work one (else the primary, else the first), and
//     returns it as [{"value": …, "type": "work", "primary": true}], which is what Entra ID maps
//     (emails[type eq "work"].value). Other addresses a client sends are dropped.
//   - displayName ↔ display_name, name.formatted ↔ full_name.
//   - meta.created and meta.lastModified ↔ created_at and updated_at, RFC 3339 UTC text with milliseconds
//     (rows written by SQLite's datetime('now') are read too). The trigger sets updated_at when the app's
//     edit left it unchanged.
//   - SQLite: WAL, so readers never wait for the writer, and a busy timeout, so a write waits for the lock
//     instead of failing at once with SQLITE_BUSY.
//   - List: a `userName eq "…"` filter (what Entra ID sends before every create) is answered from the unique
//     index through scim.Query.Equal; any other filter, sort or page by scim.ApplyQuery over the org's
//     rows. That is fine for orgs of a few thousand members; a big table should translate more filters to
//     SQL (sqlstore shows how).
package members

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/schema"
)

// Schema is the User resource the members table keeps: Entra ID's default mapping. Give it to the handler
// (scim.WithUserSchema) so that nothing else is accepted, stored or filtered on.
var Schema = schema.MustDeclareUser(schema.UserDeclaration{
	Attributes: []string{"userName", "active", "displayName", "emails", "name.formatted"},
})

// Table is the members table as the app has it before SCIM (the app's own schema, for the tests and for a
// new install).
const Table = `CREATE TABLE IF NOT EXISTS members (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	org_id INTEGER NOT NULL,
	user_name TEXT NOT NULL,
	email TEXT,
	display_name TEXT,
	full_name TEXT,
	is_disabled INTEGER NOT NULL DEFAULT 0,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
)`

// Open opens the SQLite database at path (creating the members table if there is none) and returns it, with
// Migrate applied, for New.
func Open(ctx context.Context, path string) (*sql.DB, error) {
	// WAL: readers never wait for the writer. busy_timeout: a write waits up to 5 s for the lock instead of
	// failing with SQLITE_BUSY. _txlock=immediate: a transaction takes the write lock when it begins.
	db, err := sql.Open("sqlite", "file:"+path+
		"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, Table); err != nil {
		db.Close()
		return nil, err
	}
	if err := Migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Migrate adds what SCIM needs to an existing members table, once: the user_name_key column (filled for the
// rows already there) with its unique index per org, the version column and the trigger that bumps it when
// the app updates a row. It fails, changing nothing, when an org already has two members whose user names
// differ only in case: the app has to merge them first.
func Migrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('members') WHERE name = 'user_name_key'`).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		for _, stmt := range []string{
			`ALTER TABLE members ADD COLUMN user_name_key TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE members ADD COLUMN version INTEGER NOT NULL DEFAULT 1`,
		} {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return err
			}
		}
		// The key is filter.Fold, computed in Go: SQLite has no Unicode case folding.
		rows, err := tx.QueryContext(ctx, `SELECT id, user_name FROM members`)
		if err != nil {
			return err
		}
		keys := map[int64]string{}
		for rows.Next() {
			var id int64
			var name string
			if err := rows.Scan(&id, &name); err != nil {
				rows.Close()
				return err
			}
			keys[id] = UserNameKey(name)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		for id, key := range keys {
			if _, err := tx.ExecContext(ctx, `UPDATE members SET user_name_key = ? WHERE id = ?`, key, id); err != nil {
				return err
			}
		}
	}
	for _, stmt := range []string{
		`CREATE UNIQUE INDEX IF NOT EXISTS members_org_user_name ON members (org_id, user_name_key)`,
		// The Store's own updates bump version themselves; the trigger catches the app's (recursive
		// triggers are off, so its own UPDATE does not fire it again).
		`CREATE TRIGGER IF NOT EXISTS members_version AFTER UPDATE ON members FOR EACH ROW
		WHEN NEW.version = OLD.version
		BEGIN
			UPDATE members SET version = OLD.version + 1,
				updated_at = CASE WHEN NEW.updated_at = OLD.updated_at THEN strftime('%Y-%m-%dT%H:%M:%fZ', 'now') ELSE NEW.updated_at END
			WHERE id = NEW.id;
		END`,
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			if isUnique(err) {
				return fmt.Errorf("members: an org has user names that differ only in case; merge them first: %w", err)
			}
			return err
		}
	}
	return tx.Commit()
}

// UserNameKey is the user_name_key of a user name: what uniqueness and `userName eq` compare. App code that
// writes user_name writes this beside it.
func UserNameKey(userName string) string { return filter.Fold(userName) }

// Store is the scim.Store over the members table. Tenants are org ids.
type Store struct {
	db *sql.DB
}

// New returns a Store over db, whose members table Migrate has brought up to date.
func New(db *sql.DB) *Store { return &Store{db: db} }

// columns are the columns a user is read from, in scan's order.
const columns = `id, user_name, email, display_name, full_name, is_disabled, created_at, updated_at, version`

// org returns the tenant as the org id. A tenant that is not one is the authenticator's bug, not a client's.
func org(ctx context.Context) (int64, error) {
	tenant, err := scim.Tenant(ctx) // scim.ErrNoTenant: called outside a request, without ContextWithTenant
	if err != nil {
		return 0, err
	}
	id, err := strconv.ParseInt(tenant, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("members: tenant %q is not an org id", tenant)
	}
	return id, nil
}

// memberID parses a SCIM id; an id that is not an integer names no member.
func memberID(id string) (int64, bool) {
	n, err := strconv.ParseInt(id, 10, 64)
	return n, err == nil && strconv.FormatInt(n, 10) == id // "007" is not member 7's id
}

// row is a user as the table keeps it.
type row struct {
	userName, email, displayName, fullName string
	disabled                               bool
}

func toRow(u *scim.User) row {
	r := row{userName: u.UserName, displayName: u.DisplayName, disabled: !u.IsActive()}
	if u.Name != nil {
		r.fullName = u.Name.Formatted
	}
	r.email = workEmail(u.Emails)
	return r
}

// workEmail picks the one address the table keeps: the work one, else the primary, else the first.
func workEmail(emails []scim.MultiValue) string {
	for _, e := range emails {
		if strings.EqualFold(e.Type, "work") && e.Value != "" {
			return e.Value
		}
	}
	for _, e := range emails {
		if e.Primary && e.Value != "" {
			return e.Value
		}
	}
	for _, e := range emails {
		if e.Value != "" {
			return e.Value
		}
	}
	return ""
}

// scanner is *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func scan(s scanner) (*scim.User, error) {
	var (
		id                           int64
		userName                     string
		email, displayName, fullName sql.NullString
		disabled                     bool
		createdAt, updatedAt         string
		version                      int64
	)
	if err := s.Scan(&id, &userName, &email, &displayName, &fullName, &disabled, &createdAt, &updatedAt, &version); err != nil {
		return nil, err
	}
	u := &scim.User{
		ID:          strconv.FormatInt(id, 10),
		UserName:    userName,
		DisplayName: displayName.String,
		Active:      new(!disabled),
		Meta:        scim.Meta{ResourceType: "User", Created: parseTime(createdAt), LastModified: parseTime(updatedAt), Version: strconv.FormatInt(version, 10)},
	}
	if fullName.String != "" {
		u.Name = &scim.Name{Formatted: fullName.String}
	}
	if email.String != "" {
		u.Emails = []scim.MultiValue{{Value: email.String, Type: "work", Primary: true}}
	}
	return u, nil
}

// timeFormat keeps milliseconds, as the handler gives times, in UTC so that text order is time order.
const timeFormat = "2006-01-02T15:04:05.000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

// parseTime reads created_at and updated_at as the Store writes them, or as the app did before SCIM
// (SQLite's datetime('now'), which is UTC).
func parseTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Create implements scim.Store: the member's id is the table's key, not the handler's UUID.
func (s *Store) Create(ctx context.Context, u *scim.User) (*scim.User, error) {
	orgID, err := org(ctx)
	if err != nil {
		return nil, err
	}
	r := toRow(u)
	got, err := scan(s.db.QueryRowContext(ctx, `INSERT INTO members
		(org_id, user_name, user_name_key, email, display_name, full_name, is_disabled, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+columns,
		orgID, r.userName, UserNameKey(r.userName), nullable(r.email), nullable(r.displayName), nullable(r.fullName),
		r.disabled, formatTime(u.Meta.Created), formatTime(u.Meta.LastModified)))
	if err != nil {
		return nil, mapErr(err)
	}
	return got, nil
}

// Get implements scim.Store.
func (s *Store) Get(ctx context.Context, id string) (*scim.User, error) {
	orgID, err := org(ctx)
	if err != nil {
		return nil, err
	}
	n, ok := memberID(id)
	if !ok {
		return nil, scim.ErrNotFound
	}
	u, err := scan(s.db.QueryRowContext(ctx, `SELECT `+columns+` FROM members WHERE id = ? AND org_id = ?`, n, orgID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, scim.ErrNotFound
	}
	return u, err
}

// Replace implements scim.Store: one UPDATE, conditional on the version, so no concurrent write is lost.
// created_at is written as given too: the handler passes the time it read.
func (s *Store) Replace(ctx context.Context, u *scim.User, version string) (*scim.User, error) {
	orgID, err := org(ctx)
	if err != nil {
		return nil, err
	}
	n, ok := memberID(u.ID)
	if !ok {
		return nil, scim.ErrNotFound
	}
	r := toRow(u)
	got, err := scan(s.db.QueryRowContext(ctx, `UPDATE members SET user_name = ?, user_name_key = ?, email = ?,
		display_name = ?, full_name = ?, is_disabled = ?, created_at = ?, updated_at = ?, version = version + 1
		WHERE id = ? AND org_id = ? AND (? = '' OR CAST(version AS TEXT) = ?) RETURNING `+columns,
		r.userName, UserNameKey(r.userName), nullable(r.email), nullable(r.displayName), nullable(r.fullName), r.disabled,
		formatTime(u.Meta.Created), formatTime(u.Meta.LastModified), n, orgID, version, version))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.why(ctx, n, orgID)
	}
	if err != nil {
		return nil, mapErr(err)
	}
	return got, nil
}

// Delete implements scim.Store.
func (s *Store) Delete(ctx context.Context, id, version string) error {
	orgID, err := org(ctx)
	if err != nil {
		return err
	}
	n, ok := memberID(id)
	if !ok {
		return scim.ErrNotFound
	}
	res, err := s.db.ExecContext(ctx, `DELETE FROM members WHERE id = ? AND org_id = ? AND (? = '' OR CAST(version AS TEXT) = ?)`,
		n, orgID, version, version)
	if err != nil {
		return err
	}
	if k, err := res.RowsAffected(); err != nil || k == 1 {
		return err
	}
	return s.why(ctx, n, orgID)
}

// why tells a missing member from a stale version after a conditional write changed no row.
func (s *Store) why(ctx context.Context, id, orgID int64) error {
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM members WHERE id = ? AND org_id = ?`, id, orgID).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return scim.ErrNotFound
	case err != nil:
		return err
	}
	return scim.ErrVersionMismatch
}

// List implements scim.Store: `userName eq` and `id eq` from the index, everything else by scim.ApplyQuery
// over the org's members in id order (creation order, stable for paging).
func (s *Store) List(ctx context.Context, q scim.Query) (*scim.Page, error) {
	orgID, err := org(ctx)
	if err != nil {
		return nil, err
	}
	query, args := `SELECT `+columns+` FROM members WHERE org_id = ?`, []any{orgID}
	if name, ok := q.Equal("userName"); ok {
		query, args = query+` AND user_name_key = ?`, append(args, UserNameKey(name))
	} else if id, ok := q.Equal("id"); ok {
		n, ok := memberID(id)
		if !ok {
			return &scim.Page{Users: []*scim.User{}}, nil
		}
		query, args = query+` AND id = ?`, append(args, n)
	}
	rows, err := s.db.QueryContext(ctx, query+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var users []*scim.User
	for rows.Next() {
		u, err := scan(rows)
		if err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// The index narrowed the rows; ApplyQuery still applies the filter (exactly what the index matched) and
	// cuts the page.
	return scim.ApplyQuery(users, q), nil
}

func isUnique(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

// mapErr turns the unique index's violation into scim.ErrConflict, and SQLite's busy and locked errors
// (after the busy timeout) into scim.ErrUnavailable, which answers 503 with Retry-After.
func mapErr(err error) error {
	var e *sqlite.Error
	switch {
	case isUnique(err):
		return scim.ErrConflict
	case errors.As(err, &e) && (e.Code()&0xff == sqlite3.SQLITE_BUSY || e.Code()&0xff == sqlite3.SQLITE_LOCKED):
		return fmt.Errorf("%w: %w", scim.ErrUnavailable, err)
	}
	return err
}

var _ scim.Store = (*Store)(nil)
