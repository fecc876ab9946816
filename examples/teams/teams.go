// Package teams is a scim.Store and scim.GroupStore over the tables a GORM app already has: accounts (its
// users) and teams with their team_members, in SQLite, every table with gorm.Model's columns (an integer id,
// created_at, updated_at and a deleted_at for soft deletes) and a numeric tenant_id for the customer.
//
//	accounts(id, created_at, updated_at, deleted_at, tenant_id, user_name, user_name_key, email,
//	         display_name, active, password_hash, scim, version)
//	teams(id, created_at, updated_at, deleted_at, tenant_id, name, name_key, external_id, version)
//	team_members(id, created_at, deleted_at, team_id, account_id)
//
// What it shows, beside examples/members (which maps one column per attribute):
//
//   - Soft deletes: a deleted account, team or membership keeps its row with deleted_at set, and every
//     statement reads live rows only (deleted_at IS NULL). The unique indexes are partial (WHERE deleted_at
//     IS NULL), so a userName or team name is free again once its holder is deleted, and ids (AUTOINCREMENT)
//     are never given twice, as SCIM clients that remember deleted ids need.
//   - Tenants: the authenticator returns the account's tenant_id as a decimal string; the Store parses it.
//   - Users: the app's own columns (user_name, email, display_name, active) are written from the SCIM user
//     for the app to read, and the whole user is kept as its canonical JSON in the scim column, so every
//     attribute round-trips. meta.created and meta.lastModified are created_at and updated_at.
//   - Groups: a team is a Group, its name the displayName; members are team_members rows. Filters, sorting
//     and paging of teams are answered in Go by scim.GroupCollector over the tenant's rows (with member ids
//     loaded only when the filter compares members), users' by scim.Collector: no hand-written query code.
//   - Versions: a version column bumped by every write of the Store.
//   - Cursors (scim.CursorLister): the last id of a page, sealed for the tenant by scim.CursorSealer.
//
// It passes scimtest.TestStore and scimtest.TestHandler in the app's numeric tenants (their Tenants options).
package teams

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
)

// Tables are the app's tables as its GORM models migrate them, with the indexes SCIM needs.
const Tables = `
CREATE TABLE IF NOT EXISTS accounts (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	created_at    TEXT NOT NULL,
	updated_at    TEXT NOT NULL,
	deleted_at    TEXT,
	tenant_id     INTEGER NOT NULL,
	user_name     TEXT NOT NULL,
	user_name_key TEXT NOT NULL,
	email         TEXT,
	display_name  TEXT,
	active        INTEGER NOT NULL DEFAULT 1,
	password_hash TEXT,
	scim          TEXT NOT NULL DEFAULT '{}',
	version       INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX IF NOT EXISTS accounts_user_name ON accounts (tenant_id, user_name_key) WHERE deleted_at IS NULL;
CREATE TABLE IF NOT EXISTS teams (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	created_at  TEXT NOT NULL,
	updated_at  TEXT NOT NULL,
	deleted_at  TEXT,
	tenant_id   INTEGER NOT NULL,
	name        TEXT NOT NULL,
	name_key    TEXT NOT NULL,
	external_id TEXT,
	version     INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX IF NOT EXISTS teams_name ON teams (tenant_id, name_key) WHERE deleted_at IS NULL;
CREATE TABLE IF NOT EXISTS team_members (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	created_at TEXT NOT NULL,
	deleted_at TEXT,
	team_id    INTEGER NOT NULL REFERENCES teams (id),
	account_id INTEGER NOT NULL REFERENCES accounts (id)
);
CREATE UNIQUE INDEX IF NOT EXISTS team_members_live ON team_members (team_id, account_id) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS team_members_account ON team_members (account_id) WHERE deleted_at IS NULL;
`

// Open opens the SQLite database at path, creating the tables if there are none.
func Open(ctx context.Context, path string) (*sql.DB, error) {
	// WAL: readers never wait for the writer. busy_timeout: a write waits for the lock rather than failing
	// with SQLITE_BUSY. _txlock=immediate: a transaction takes the write lock when it begins, so that two
	// read-then-write transactions never deadlock.
	db, err := sql.Open("sqlite", "file:"+path+
		"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, Tables); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Store is the scim.Store, scim.CursorLister and scim.GroupStore over the accounts and teams tables.
type Store struct {
	db      *sql.DB
	cursors *scim.CursorSealer
}

// New returns the Store over db (Open's). Its cursors are sealed with a random key: replicas serving the same
// clients would share one (scim.NewCursorSealer).
func New(db *sql.DB) *Store {
	sealer, err := scim.NewCursorSealer(scim.NewCursorKey())
	if err != nil {
		panic(err) // NewCursorKey's key always fits
	}
	return &Store{db: db, cursors: sealer}
}

var (
	_ scim.Store        = (*Store)(nil)
	_ scim.CursorLister = (*Store)(nil)
	_ scim.GroupStore   = (*Store)(nil)
)

// tenant is the context's tenant as the tenant_id it names.
func tenant(ctx context.Context) (int64, error) {
	t, err := scim.Tenant(ctx)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("teams: tenant %q is not a tenant id", t)
	}
	return n, nil
}

// row returns the context's tenant id and the row id id names: scim.ErrNotFound for an id this Store never
// gave.
func row(ctx context.Context, id string) (tid, n int64, err error) {
	if tid, err = tenant(ctx); err != nil {
		return 0, 0, err
	}
	n, ok := key(id)
	if !ok {
		return 0, 0, scim.ErrNotFound
	}
	return tid, n, nil
}

// key parses a resource id; false for an id this Store never gave (which then matches no row).
func key(id string) (int64, bool) {
	n, err := strconv.ParseInt(id, 10, 64)
	return n, err == nil && n > 0 && strconv.FormatInt(n, 10) == id
}

const timeFormat = "2006-01-02T15:04:05.000000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t.UTC()
}

func now() string { return formatTime(time.Now()) }

// Users

// accountColumns are the columns scanAccount reads.
const accountColumns = `id, created_at, updated_at, password_hash, scim, version`

type scanner interface{ Scan(dest ...any) error }

func scanAccount(s scanner) (*scim.User, error) {
	var (
		id, version      int64
		created, updated string
		hash             sql.NullString
		doc              string
	)
	if err := s.Scan(&id, &created, &updated, &hash, &doc, &version); err != nil {
		return nil, err
	}
	u := &scim.User{}
	if err := json.Unmarshal([]byte(doc), u); err != nil {
		return nil, fmt.Errorf("teams: account %d: %w", id, err)
	}
	u.ID = strconv.FormatInt(id, 10)
	// ResourceType and Location are the handler's to fill (scim.Meta): the Store keeps the times and version.
	u.Meta = scim.Meta{Created: parseTime(created), LastModified: parseTime(updated), Version: strconv.FormatInt(version, 10)}
	u.PasswordHash = hash.String
	return u, nil
}

// accountRow is what a write stores of u: the app's columns and the canonical JSON of the rest.
type accountRow struct {
	userName, userNameKey, doc string
	email, displayName, hash   any
	active                     bool
}

func toRow(u *scim.User) (accountRow, error) {
	c := *u
	c.ID, c.Meta, c.PasswordHash, c.Schemas, c.Groups = "", scim.Meta{}, "", nil, nil // kept in columns, or computed
	b, err := json.Marshal(&c)
	if err != nil {
		return accountRow{}, err
	}
	return accountRow{userName: u.UserName, userNameKey: filter.Fold(u.UserName), doc: string(b),
		email: nullable(workEmail(u.Emails)), displayName: nullable(u.DisplayName), hash: nullable(u.PasswordHash),
		active: u.Active == nil || *u.Active}, nil
}

// workEmail is the address the app's email column shows: the work one, else the primary, else the first.
func workEmail(emails []scim.MultiValue) string {
	best := ""
	for i, e := range emails {
		switch {
		case e.Type == "work":
			return e.Value
		case e.Primary, i == 0 && best == "":
			best = e.Value
		}
	}
	return best
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Create implements scim.Store: the account's id is the table's key; the handler's UUID is dropped.
func (s *Store) Create(ctx context.Context, u *scim.User) (*scim.User, error) {
	tid, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	r, err := toRow(u)
	if err != nil {
		return nil, err
	}
	row := s.db.QueryRowContext(ctx, `INSERT INTO accounts
		(created_at, updated_at, tenant_id, user_name, user_name_key, email, display_name, active, password_hash, scim)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+accountColumns,
		formatTime(u.Meta.Created), formatTime(u.Meta.LastModified), tid, r.userName, r.userNameKey, r.email,
		r.displayName, r.active, r.hash, r.doc)
	got, err := scanAccount(row)
	return got, mapErr(err)
}

// Get implements scim.Store.
func (s *Store) Get(ctx context.Context, id string) (*scim.User, error) {
	tid, n, err := row(ctx, id)
	if err != nil {
		return nil, err
	}
	u, err := scanAccount(s.db.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts
		WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL`, tid, n))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, scim.ErrNotFound
	}
	return u, mapErr(err)
}

// Replace implements scim.Store. created_at is left out of the UPDATE: Replace keeps Meta.Created.
func (s *Store) Replace(ctx context.Context, u *scim.User, version string) (*scim.User, error) {
	tid, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	n, ok := key(u.ID)
	if !ok {
		return nil, scim.ErrNotFound
	}
	r, err := toRow(u)
	if err != nil {
		return nil, err
	}
	got, err := scanAccount(s.db.QueryRowContext(ctx, `UPDATE accounts SET updated_at = ?, user_name = ?,
		user_name_key = ?, email = ?, display_name = ?, active = ?, password_hash = ?, scim = ?, version = version + 1
		WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL AND (? = '' OR version = ?)
		RETURNING `+accountColumns,
		formatTime(u.Meta.LastModified), r.userName, r.userNameKey, r.email, r.displayName, r.active, r.hash, r.doc,
		tid, n, version, version))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.why(ctx, "accounts", tid, n)
	}
	return got, mapErr(err)
}

// Delete implements scim.Store: the account is soft-deleted, and with it its memberships, each of its teams
// getting a new version.
func (s *Store) Delete(ctx context.Context, id, version string) error {
	return s.softDelete(ctx, "accounts", id, version, func(tx *sql.Tx, n int64, at string) error {
		if _, err := tx.ExecContext(ctx, `UPDATE teams SET version = version + 1, updated_at = ? WHERE id IN
			(SELECT team_id FROM team_members WHERE account_id = ? AND deleted_at IS NULL)`, at, n); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE team_members SET deleted_at = ? WHERE account_id = ? AND deleted_at IS NULL`, at, n)
		return err
	})
}

// softDelete marks the row id of table (accounts or teams) deleted if version matches (any, when empty),
// then runs then in the same transaction for what goes with it.
func (s *Store) softDelete(ctx context.Context, table, id, version string, then func(tx *sql.Tx, n int64, at string) error) error {
	tid, n, err := row(ctx, id)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		at := now()
		res, err := tx.ExecContext(ctx, `UPDATE `+table+` SET deleted_at = ? WHERE tenant_id = ? AND id = ?
			AND deleted_at IS NULL AND (? = '' OR version = ?)`, at, tid, n, version, version)
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return s.why(ctx, table, tid, n)
		}
		return then(tx, n, at)
	})
}

// why tells ErrVersionMismatch from ErrNotFound after a write that matched no row.
func (s *Store) why(ctx context.Context, table string, tid, n int64) error {
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM `+table+` WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL`,
		tid, n).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return scim.ErrNotFound
	case err != nil:
		return mapErr(err)
	}
	return scim.ErrVersionMismatch
}

// List implements scim.Store: `userName eq "…"` from the unique index, anything else by scim.Collector
// over the tenant's live accounts in id order (it keeps only the page, and refuses past q.MaxScan).
func (s *Store) List(ctx context.Context, q scim.Query) (*scim.Page, error) {
	tid, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	where, args := `tenant_id = ? AND deleted_at IS NULL`, []any{tid}
	if name, ok := q.Equal("userName"); ok {
		where, args = where+` AND user_name_key = ?`, append(args, filter.Fold(name))
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	c := scim.NewCollector(ctx, q)
	for rows.Next() {
		u, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		if err := c.Add(u); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	return c.Page(), nil
}

// ListCursor implements scim.CursorLister: the cursor is the last id of the previous page, sealed for the
// tenant (scim.CursorSealer), so a client can neither read nor forge it nor use it in another tenant, and a
// page is the matches after it in id order. Ids only
// grow, so users created or deleted between pages never shift one.
func (s *Store) ListCursor(ctx context.Context, q scim.Query, cursor string) (*scim.Page, error) {
	tid, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	var after int64
	if cursor != "" {
		if after, err = s.cursors.Open(strconv.FormatInt(tid, 10), cursor); err != nil {
			return nil, err
		}
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE tenant_id = ? AND deleted_at IS NULL
		ORDER BY id`, tid)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	page := &scim.Page{Users: []*scim.User{}}
	scanned := 0
	for rows.Next() {
		if scanned++; q.MaxScan > 0 && scanned > q.MaxScan {
			return nil, scim.ErrTooMany
		}
		u, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		if !q.Matches(u) {
			continue
		}
		page.TotalResults++
		if n, _ := key(u.ID); n <= after {
			continue
		}
		if len(page.Users) < q.Count {
			page.Users = append(page.Users, u)
		} else if page.NextCursor == "" && len(page.Users) > 0 {
			last, _ := key(page.Users[len(page.Users)-1].ID) // a match follows the page
			page.NextCursor = s.cursors.Seal(strconv.FormatInt(tid, 10), last)
		}
	}
	return page, mapErr(rows.Err())
}

// Groups

// teamColumns are the columns scanTeam reads.
const teamColumns = `id, created_at, updated_at, name, external_id, version`

func scanTeam(s scanner) (*scim.Group, error) {
	var (
		id, version      int64
		created, updated string
		name             string
		ext              sql.NullString
	)
	if err := s.Scan(&id, &created, &updated, &name, &ext, &version); err != nil {
		return nil, err
	}
	return &scim.Group{ID: strconv.FormatInt(id, 10), DisplayName: name, ExternalID: ext.String,
		Meta: scim.Meta{Created: parseTime(created), LastModified: parseTime(updated), Version: strconv.FormatInt(version, 10)}}, nil
}

// CreateGroup implements scim.GroupStore: the team and its memberships in one transaction.
func (s *Store) CreateGroup(ctx context.Context, g *scim.Group) (*scim.Group, error) {
	tid, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	var out *scim.Group
	err = s.tx(ctx, func(tx *sql.Tx) error {
		out, err = scanTeam(tx.QueryRowContext(ctx, `INSERT INTO teams (created_at, updated_at, tenant_id, name, name_key, external_id)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING `+teamColumns, formatTime(g.Meta.Created), formatTime(g.Meta.LastModified),
			tid, g.DisplayName, filter.Fold(g.DisplayName), nullable(g.ExternalID)))
		if err != nil {
			return err
		}
		ids := make([]string, len(g.Members))
		for i, m := range g.Members {
			ids[i] = m.Value
		}
		_, err := link(ctx, tx, tid, out.ID, ids)
		return err
	})
	return out, err
}

// link adds the accounts to the team, skipping live members; any id that is not a live account of the
// tenant is an UnknownMemberError (and the caller's transaction rolls back). It reports whether it added any.
func link(ctx context.Context, tx *sql.Tx, tid int64, team string, ids []string) (bool, error) {
	added := false
	for _, id := range ids {
		n, ok := key(id)
		var one int
		if ok {
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM accounts WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL`, tid, n).Scan(&one)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return false, err
			}
			ok = err == nil
		}
		if !ok {
			return false, &scim.UnknownMemberError{ID: id}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO team_members (created_at, team_id, account_id) VALUES (?, ?, ?)
			ON CONFLICT (team_id, account_id) WHERE deleted_at IS NULL DO NOTHING`, now(), team, n)
		if err != nil {
			return false, err
		}
		k, _ := res.RowsAffected()
		added = added || k > 0
	}
	return added, nil
}

// GetGroup implements scim.GroupStore.
func (s *Store) GetGroup(ctx context.Context, id string, read scim.GroupRead) (*scim.Group, error) {
	tid, n, err := row(ctx, id)
	if err != nil {
		return nil, err
	}
	g, err := scanTeam(s.db.QueryRowContext(ctx, `SELECT `+teamColumns+` FROM teams
		WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL`, tid, n))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, scim.ErrNotFound
	}
	if err != nil {
		return nil, mapErr(err)
	}
	return g, s.loadMembers(ctx, g, read)
}

// loadMembers sets g's Members (value, display, type) as read says, or MembersOmitted above read.MaxMembers.
// The LIMIT reads at most MaxMembers+1 rows: a huge team costs no more than a small one.
func (s *Store) loadMembers(ctx context.Context, g *scim.Group, read scim.GroupRead) error {
	if read.MaxMembers <= 0 {
		return nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT a.id, coalesce(a.display_name, a.user_name) FROM team_members m
		JOIN accounts a ON a.id = m.account_id WHERE m.team_id = ? AND m.deleted_at IS NULL AND a.deleted_at IS NULL
		ORDER BY a.id LIMIT ?`, g.ID, read.MaxMembers+1)
	if err != nil {
		return mapErr(err)
	}
	defer rows.Close()
	var members []scim.Member
	for rows.Next() {
		var id int64
		var display string
		if err := rows.Scan(&id, &display); err != nil {
			return err
		}
		members = append(members, scim.Member{Value: strconv.FormatInt(id, 10), Display: display, Type: "User"})
	}
	if err := rows.Err(); err != nil {
		return mapErr(err)
	}
	if len(members) > read.MaxMembers {
		g.MembersOmitted = true
		return nil
	}
	g.Members = members
	return nil
}

// UpdateGroup implements scim.GroupStore: attributes and membership deltas in one transaction. A change
// that changes nothing keeps the version.
func (s *Store) UpdateGroup(ctx context.Context, id string, u scim.GroupUpdate, version string) (*scim.Group, error) {
	tid, n, err := row(ctx, id)
	if err != nil {
		return nil, err
	}
	var out *scim.Group
	err = s.tx(ctx, func(tx *sql.Tx) error {
		cur, err := scanTeam(tx.QueryRowContext(ctx, `SELECT `+teamColumns+` FROM teams
			WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL`, tid, n))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return scim.ErrNotFound
		case err != nil:
			return err
		case version != "" && version != cur.Meta.Version:
			return scim.ErrVersionMismatch
		}
		changed := u.Group != nil && (u.Group.DisplayName != cur.DisplayName || u.Group.ExternalID != cur.ExternalID)
		modified := now()
		if changed {
			if !u.Group.Meta.LastModified.IsZero() {
				modified = formatTime(u.Group.Meta.LastModified)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE teams SET name = ?, name_key = ?, external_id = ? WHERE id = ?`,
				u.Group.DisplayName, filter.Fold(u.Group.DisplayName), nullable(u.Group.ExternalID), n); err != nil {
				return err
			}
		}
		added, err := link(ctx, tx, tid, id, u.Add)
		if err != nil {
			return err
		}
		removed := false
		for _, uid := range u.Remove {
			res, err := tx.ExecContext(ctx, `UPDATE team_members SET deleted_at = ? WHERE team_id = ? AND account_id = ?
				AND deleted_at IS NULL`, now(), n, uid)
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			removed = removed || k > 0
		}
		if !changed && !added && !removed {
			out = cur
			return nil
		}
		out, err = scanTeam(tx.QueryRowContext(ctx, `UPDATE teams SET version = version + 1, updated_at = ?
			WHERE id = ? RETURNING `+teamColumns, modified, n))
		return err
	})
	return out, err
}

// DeleteGroup implements scim.GroupStore: the team and its memberships are soft-deleted.
func (s *Store) DeleteGroup(ctx context.Context, id, version string) error {
	return s.softDelete(ctx, "teams", id, version, func(tx *sql.Tx, n int64, at string) error {
		_, err := tx.ExecContext(ctx, `UPDATE team_members SET deleted_at = ? WHERE team_id = ? AND deleted_at IS NULL`, at, n)
		return err
	})
}

// ListGroups implements scim.GroupStore with scim.GroupCollector over the tenant's live teams in id order:
// member ids are read only when the filter compares members, and the page's members as read says.
func (s *Store) ListGroups(ctx context.Context, q scim.Query, read scim.GroupRead) (*scim.GroupPage, error) {
	tid, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+teamColumns+` FROM teams WHERE tenant_id = ? AND deleted_at IS NULL
		ORDER BY id`, tid)
	if err != nil {
		return nil, mapErr(err)
	}
	var teams []*scim.Group
	for rows.Next() {
		g, err := scanTeam(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		teams = append(teams, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	c := scim.NewGroupCollector(ctx, q)
	for _, g := range teams {
		if c.NeedsMembers() { // the ids are all a members filter compares
			for uid, err := range s.MemberIDs(ctx, g.ID) {
				if err != nil {
					return nil, err
				}
				g.Members = append(g.Members, scim.Member{Value: uid})
			}
		}
		if err := c.Add(g); err != nil {
			return nil, err
		}
	}
	page := c.Page()
	for _, g := range page.Groups {
		g.Members = nil
		if err := s.loadMembers(ctx, g, read); err != nil {
			return nil, err
		}
	}
	return page, nil
}

// MemberIDs implements scim.GroupStore: the live members' ids in ascending order, streamed from the rows.
func (s *Store) MemberIDs(ctx context.Context, id string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		tid, err := tenant(ctx)
		if err != nil {
			yield("", err)
			return
		}
		n, ok := key(id)
		var one int
		if ok {
			err = s.db.QueryRowContext(ctx, `SELECT 1 FROM teams WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL`,
				tid, n).Scan(&one)
		}
		switch {
		case !ok || errors.Is(err, sql.ErrNoRows):
			yield("", scim.ErrNotFound)
			return
		case err != nil:
			yield("", mapErr(err))
			return
		}
		// Read whole before yielding: the caller may call the Store back, and SQLite allows one writer.
		rows, err := s.db.QueryContext(ctx, `SELECT account_id FROM team_members WHERE team_id = ? AND deleted_at IS NULL
			ORDER BY account_id`, n)
		if err != nil {
			yield("", mapErr(err))
			return
		}
		var ids []string
		for rows.Next() {
			var uid int64
			if err := rows.Scan(&uid); err != nil {
				rows.Close()
				yield("", err)
				return
			}
			ids = append(ids, strconv.FormatInt(uid, 10))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			yield("", mapErr(err))
			return
		}
		for _, uid := range ids {
			if !yield(uid, nil) {
				return
			}
		}
	}
}

// GroupsOf implements scim.GroupStore: one query over the accounts' live memberships.
func (s *Store) GroupsOf(ctx context.Context, userIDs []string) (map[string][]scim.GroupRef, error) {
	tid, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string][]scim.GroupRef{}
	var keys []any
	for _, id := range userIDs {
		if n, ok := key(id); ok {
			keys = append(keys, n)
		}
	}
	if len(keys) == 0 {
		return out, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT m.account_id, t.id, t.name FROM team_members m
		JOIN teams t ON t.id = m.team_id WHERE t.tenant_id = ? AND t.deleted_at IS NULL AND m.deleted_at IS NULL
		AND m.account_id IN (?`+strings.Repeat(", ?", len(keys)-1)+`) ORDER BY t.id`, append([]any{tid}, keys...)...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var uid, team int64
		var name string
		if err := rows.Scan(&uid, &team, &name); err != nil {
			return nil, err
		}
		u := strconv.FormatInt(uid, 10)
		out[u] = append(out[u], scim.GroupRef{Value: strconv.FormatInt(team, 10), Display: name, Type: "direct"})
	}
	return out, mapErr(rows.Err())
}

// tx runs fn in a transaction, committed when fn returns nil; its errors go through mapErr.
func (s *Store) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return mapErr(err)
	}
	return mapErr(tx.Commit())
}

func isUnique(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

// mapErr turns a unique index's violation into scim.ErrConflict, and SQLite's busy and locked errors (after
// the busy timeout) into scim.ErrUnavailable, which answers 503 with Retry-After.
func mapErr(err error) error {
	var e *sqlite.Error
	switch {
	case err == nil:
		return nil
	case isUnique(err):
		return scim.ErrConflict
	case errors.As(err, &e) && (e.Code()&0xff == sqlite3.SQLITE_BUSY || e.Code()&0xff == sqlite3.SQLITE_LOCKED):
		return fmt.Errorf("%w: %w", scim.ErrUnavailable, err)
	}
	return err
}
