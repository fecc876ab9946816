// Package sqlstore is a scim.Store and scim.GroupStore over database/sql, for PostgreSQL (through github.com/jackc/pgx/v5) and
// SQLite (through modernc.org/sqlite: pure Go, no cgo).
//
// It creates its schema on first use with versioned migrations that several replicas may run at once (hosts
// that run their own migration tool take them from Migrations and open the store WithoutMigrations), keeps
// userName unique per tenant without case in a unique index, versions every row for optimistic concurrency,
// and pushes filters, sorting and paging down to SQL, so that `userName eq` and `externalId eq` are index
// lookups. Each user is stored whole as JSON beside the columns it is queried by, so nothing a client sent is
// lost. A filter or sort the SQL mapping cannot express is evaluated in Go instead of failing.
//
// The guide, [docs/sqlstore.md], describes the tables, groups in SQL, connection pools, how faults answer
// 503, SQLite's write-ahead log, the outbox, cursors and running your own migrations.
//
// [docs/sqlstore.md]: https://github.com/scimkit/scim/blob/main/docs/sqlstore.md
package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/schema"
	"github.com/scimkit/scim/shared/stored"
	"github.com/scimkit/scim/sqlstore/internal/sqlfilter"
)

// Store is a scim.Store and scim.CursorLister over a SQL database. It is safe for concurrent use, from one
// process or many.
type Store struct {
	db      *sql.DB
	dialect Dialect
	mapping sqlfilter.Mapping
	rt      *schema.ResourceType
	outbox  bool
	cursors *scim.CursorSealer

	noMigrate   bool          // WithoutMigrations: check the schema's version instead of migrating
	stmtTimeout time.Duration // WithStatementTimeout: PostgreSQL's bound on a statement without a deadline

	// Operations: pools, the SQLite log, closing.
	wdb       *sql.DB          // writes: db, or WithWriter's pool (for SQLite: one connection, as SQLite has one writer)
	temporary func(error) bool // WithTemporary: the driver's own temporary failures
	pool      PoolConfig
	readers   *gate // each tenant's share of db (share.go)
	writers   *gate // each tenant's share of wdb: readers when wdb is db
	wal       WALConfig
	stop      chan struct{} // closed by Close: stops the WAL checkpointer
	stopped   sync.WaitGroup
	closed    sync.Once
	closeErr  error
}

// Option configures a Store.
type Option func(*Store)

// WithSchema makes the store follow the User resource type a host declared (schema.DeclareUser), the one
// it gives the handler with scim.WithUserSchema: the search copy folds the declared extension attributes
// that compare without case, so filters on them are pushed down to SQL. The default is the whole core and
// enterprise User.
func WithSchema(rt *schema.ResourceType) Option {
	return func(s *Store) {
		if rt != nil {
			s.rt = rt
		}
	}
}

// WithOutbox makes every write also record its change in the scim_outbox table, in the same transaction:
// at-least-once delivery of changes for hosts that cannot lose one (the handler's WithEvents is at most
// once). Read the entries with ReadOutbox and remove the handled ones with AckOutbox.
func WithOutbox() Option { return func(s *Store) { s.outbox = true } }

var (
	_ scim.Store        = (*Store)(nil)
	_ scim.CursorLister = (*Store)(nil)
)

// WithWriter makes the store write through w and read through the *sql.DB given to New. For SQLite, w is
// a pool of one connection (SetMaxOpenConns(1)), so that writes queue, within their deadlines, for the one
// writer SQLite serves (in the store, tenants in turn: PoolConfig.TenantShare), instead of racing for its
// lock in its busy handler (which sleeps, polls and fails with SQLITE_BUSY when the busy timeout runs out);
// sqlite.Open does this. Close closes w too.
func WithWriter(w *sql.DB) Option {
	return func(s *Store) { s.wdb = w }
}

// New returns a Store over db, whose dialect is d, after bringing its schema up to date (Migrate), or, with
// WithoutMigrations, after checking that the host has. The host keeps ownership of db (Close closes it).
func New(ctx context.Context, db *sql.DB, d Dialect, opts ...Option) (*Store, error) {
	if d != Postgres && d != SQLite {
		return nil, fmt.Errorf("sqlstore: unknown dialect %v", d)
	}
	s := &Store{
		db:      db,
		dialect: d,
		wal:     defaultWAL,
		rt:      schema.User(),
		mapping: sqlfilter.Mapping{
			Dialect: d.sql(),
			Columns: map[string]string{
				"id":                "id",
				"userName":          "user_name_fold",
				"externalId":        "external_id",
				"displayName":       "display_name_fold",
				"active":            "active",
				"meta.created":      "created",
				"meta.lastModified": "last_modified",
			},
			JSON:       "data",
			FoldedJSON: "search",
			// groups.value eq "…": a group's members, paged as users
			Links: map[string]sqlfilter.Link{"groups": groupsLink},
		},
	}
	for _, o := range opts {
		o(s)
	}
	s.pool.apply(db)
	if s.wdb == nil {
		s.wdb = db
	}
	s.gates()
	if s.noMigrate {
		if err := s.checkVersion(ctx); err != nil {
			var ve *VersionError
			if errors.As(err, &ve) {
				return nil, err
			}
			return nil, fmt.Errorf("sqlstore: checking the schema version: %w", classifyWith(err, s.temporary))
		}
	} else if err := s.migrate(ctx); err != nil {
		return nil, fmt.Errorf("sqlstore: migrating: %w", classifyWith(err, s.temporary))
	}
	key, err := s.cursorKey(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: cursor key: %w", classifyWith(err, s.temporary))
	}
	if s.cursors, err = scim.NewCursorSealer(key); err != nil {
		return nil, err
	}
	if d == SQLite && s.wal.Limit > 0 && s.wal.Interval > 0 {
		if err := s.startCheckpointer(ctx); err != nil {
			return nil, fmt.Errorf("sqlstore: locating the database file: %w", err)
		}
	}
	return s, nil
}

// DB returns the database the store uses (for a store WithWriter, such as sqlite.Open's, the readers' pool;
// writes through it wait for SQLite's lock in its busy handler).
func (s *Store) DB() *sql.DB { return s.db }

// Close stops the store's background work and closes the database. An SQLite store first checkpoints its
// write-ahead log into the database and truncates it, so the file is whole on its own (a copy or backup
// of it alone loses nothing) and the next open has no log to replay.
func (s *Store) Close() error {
	s.closed.Do(func() {
		if s.stop != nil {
			close(s.stop)
			s.stopped.Wait()
		}
		var errs []error
		if s.dialect == SQLite {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // twice sqlite.Open's busy timeout
			errs = append(errs, s.checkpoint(ctx, -1))
			cancel()
		}
		if s.wdb != s.db {
			errs = append(errs, s.wdb.Close())
		}
		s.closeErr = errors.Join(append(errs, s.db.Close())...)
	})
	return s.closeErr
}

// timeFormat stores times as text whose lexical order is time order, identical in both dialects, and the
// one the filter compiler binds dateTime literals in.
const timeFormat = stored.TimeLayout

// row is a user as the columns hold it.
type row struct {
	userName, userNameFold  string
	externalID, displayName sql.NullString // NULL when unassigned, so that SQL sees absence as the evaluator does
	active                  sql.NullBool
	created, lastModified   string
	data, search            string
	passwordHash            sql.NullString
}

// maxIndexed is the most bytes of a value an index of the store's holds (userName and displayName folded,
// externalId as it is): PostgreSQL refuses a btree entry past about a third of a page, and a value a client
// chose must be its 400, never the store's 500. No identity provider sends a userName near it.
const maxIndexed = 2000

// tooLongToIndex refuses the value of attr when it is longer than maxIndexed bytes.
func tooLongToIndex(attr, v string) error {
	if len(v) <= maxIndexed {
		return nil
	}
	return &scim.Error{Status: http.StatusBadRequest, ScimType: scim.InvalidValue,
		Detail: fmt.Sprintf("%s is longer than %d bytes, the most this service provider indexes", attr, maxIndexed)}
}

func (s *Store) toRow(ctx context.Context, u *scim.User) (row, error) {
	if err := cmp.Or(tooLongToIndex("userName", filter.Fold(u.UserName)), tooLongToIndex("externalId", u.ExternalID)); err != nil {
		return row{}, err
	}
	data, ok := scim.EncodedUser(ctx, u) // the handler's encoding of u, when the handler is the caller
	if !ok {
		var err error
		if data, err = json.Marshal(u); err != nil {
			return row{}, err
		}
	}
	search, err := json.Marshal(stored.FoldDocument(s.rt, u.Document())) // the folded copy, built without decoding data
	if err != nil {
		return row{}, err
	}
	r := row{
		userName:     u.UserName,
		userNameFold: filter.Fold(u.UserName),
		displayName:  sql.NullString{String: filter.Fold(u.DisplayName), Valid: u.DisplayName != ""},
		externalID:   sql.NullString{String: u.ExternalID, Valid: u.ExternalID != ""},
		created:      u.Meta.Created.UTC().Format(timeFormat),
		lastModified: u.Meta.LastModified.UTC().Format(timeFormat),
		data:         string(data),
		search:       string(search),
		passwordHash: sql.NullString{String: u.PasswordHash, Valid: u.PasswordHash != ""},
	}
	if u.Active != nil {
		r.active = sql.NullBool{Bool: *u.Active, Valid: true}
	}
	return r, nil
}

// q rewrites a query written with '?' placeholders for the store's dialect ($1, $2, ... in PostgreSQL).
func (s *Store) q(query string) string {
	if s.dialect != Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Create implements scim.Store.
func (s *Store) Create(ctx context.Context, u *scim.User) (_ *scim.User, err error) {
	if _, err := scim.Tenant(ctx); err != nil { // every method acts on the context's tenant: tenantOf
		return nil, err
	}
	defer s.classify(ctx, &err)
	ctx, done, err := s.enter(ctx, true)
	if err != nil {
		return nil, err
	}
	defer done.leave()
	r, err := s.toRow(ctx, u)
	if err != nil {
		return nil, err
	}
	err = s.write(ctx, func(db querier) error {
		_, err := db.ExecContext(ctx, s.q(`INSERT INTO scim_users
			(tenant, id, user_name, user_name_fold, external_id, display_name_fold, active, created, last_modified, version, data, search, password_hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)`),
			tenantOf(ctx), u.ID, r.userName, r.userNameFold, r.externalID, r.displayName, r.active,
			r.created, r.lastModified, r.data, r.search, r.passwordHash)
		if err != nil {
			return mapErr(err)
		}
		return s.record(ctx, db, scim.UserCreated, u.ID, 1, r.data)
	})
	if err != nil {
		return nil, err
	}
	u.Meta.Version = "1"
	return u, nil
}

// KeepsUserJSON implements scim.JSONKeeper: the store keeps each user's JSON, and takes the handler's
// encoding of a user it writes (scim.EncodedUser) rather than encoding it again.
func (s *Store) KeepsUserJSON() {}

// Get implements scim.Store.
func (s *Store) Get(ctx context.Context, id string) (_ *scim.User, err error) {
	if _, err := scim.Tenant(ctx); err != nil { // every method acts on the context's tenant: tenantOf
		return nil, err
	}
	defer s.classify(ctx, &err)
	ctx, done, err := s.enter(ctx, false)
	if err != nil {
		return nil, err
	}
	defer done.leave()
	var data string
	var version int64
	var hash sql.NullString
	err = s.db.QueryRowContext(ctx, s.q(`SELECT data, version, password_hash FROM scim_users WHERE tenant = ? AND id = ?`),
		tenantOf(ctx), id).Scan(&data, &version, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, scim.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	u, err := decodeUser(data, version)
	if err == nil {
		u.PasswordHash = hash.String
	}
	return u, err
}

func decodeUser(data string, version int64) (*scim.User, error) {
	u := new(scim.User)
	if err := json.Unmarshal([]byte(data), u); err != nil {
		return nil, fmt.Errorf("sqlstore: decoding a stored user: %w", err)
	}
	u.Meta.Version = strconv.FormatInt(version, 10)
	return u, nil
}

// Replace implements scim.Store.
func (s *Store) Replace(ctx context.Context, u *scim.User, version string) (_ *scim.User, err error) {
	if _, err := scim.Tenant(ctx); err != nil { // every method acts on the context's tenant: tenantOf
		return nil, err
	}
	defer s.classify(ctx, &err)
	ctx, done, err := s.enter(ctx, true)
	if err != nil {
		return nil, err
	}
	defer done.leave()
	r, err := s.toRow(ctx, u)
	if err != nil {
		return nil, err
	}
	query := `UPDATE scim_users SET user_name = ?, user_name_fold = ?, external_id = ?, display_name_fold = ?,
		active = ?, created = ?, last_modified = ?, version = version + 1, data = ?, search = ?, password_hash = ?
		WHERE tenant = ? AND id = ?`
	args := []any{r.userName, r.userNameFold, r.externalID, r.displayName, r.active, r.created, r.lastModified,
		r.data, r.search, r.passwordHash, tenantOf(ctx), u.ID}
	query, args = ifVersion(query, args, version)
	var newVersion int64
	err = s.write(ctx, func(db querier) error {
		var wasActive sql.NullBool
		if s.outbox { // the old active flag tells deactivation from another update
			lock := ""
			if s.dialect == Postgres {
				lock = " FOR UPDATE"
			}
			err := db.QueryRowContext(ctx, s.q(`SELECT active FROM scim_users WHERE tenant = ? AND id = ?`+lock),
				tenantOf(ctx), u.ID).Scan(&wasActive)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		err := db.QueryRowContext(ctx, s.q(query+` RETURNING version`), args...).Scan(&newVersion)
		if errors.Is(err, sql.ErrNoRows) {
			return s.missOrStale(ctx, db, u.ID)
		}
		if err != nil {
			return mapErr(err)
		}
		typ := scim.UserUpdated
		if was, is := !wasActive.Valid || wasActive.Bool, u.IsActive(); was != is {
			typ = map[bool]scim.EventType{true: scim.UserReactivated, false: scim.UserDeactivated}[is]
		}
		return s.record(ctx, db, typ, u.ID, newVersion, r.data)
	})
	if err != nil {
		return nil, err
	}
	u.Meta.Version = strconv.FormatInt(newVersion, 10)
	return u, nil
}

// ifVersion adds the condition that the row's version is still version to a write's WHERE clause; an empty
// version means any.
func ifVersion(query string, args []any, version string) (string, []any) {
	if version == "" {
		return query, args
	}
	v, err := strconv.ParseInt(version, 10, 64)
	if err != nil {
		v = -1 // not a version this store made: matches no row
	}
	return query + ` AND version = ?`, append(args, v)
}

// Delete implements scim.Store.
func (s *Store) Delete(ctx context.Context, id, version string) (err error) {
	if _, err := scim.Tenant(ctx); err != nil { // every method acts on the context's tenant: tenantOf
		return err
	}
	defer s.classify(ctx, &err)
	ctx, done, err := s.enter(ctx, true)
	if err != nil {
		return err
	}
	defer done.leave()
	query := `DELETE FROM scim_users WHERE tenant = ? AND id = ?`
	args := []any{tenantOf(ctx), id}
	query, args = ifVersion(query, args, version)
	// The user's memberships go with it, in the same transaction, and each group it leaves gets a new version
	// and lastModified, as any change of its members does (memstore does the same). On PostgreSQL those
	// groups' rows are locked first, in id order, before the user's: a group write holds its group's row,
	// then a key-share lock on the users it adds, so taking them in the same order never deadlocks with it. A
	// group write adding the user holds that key-share lock: the DELETE waits for it, and the next
	// statements see its rows.
	tenant := tenantOf(ctx)
	return s.tx(ctx, func(tx *sql.Tx) error {
		if s.dialect == Postgres {
			if _, err := collectIDs(ctx, tx, `SELECT id FROM scim_groups WHERE tenant = $1 AND id IN
				(SELECT group_id FROM scim_members WHERE tenant = $1 AND user_id = $2) ORDER BY id FOR UPDATE`,
				tenant, id); err != nil {
				return err
			}
		}
		var data string
		var deleted int64
		err := tx.QueryRowContext(ctx, s.q(query+` RETURNING data, version`), args...).Scan(&data, &deleted)
		if errors.Is(err, sql.ErrNoRows) {
			return s.missOrStaleIn(ctx, tx, "scim_users", id)
		}
		if err != nil {
			return err
		}
		if err := s.touchGroupsOf(ctx, tx, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM scim_members WHERE tenant = ? AND user_id = ?`),
			tenant, id); err != nil {
			return err
		}
		return s.record(ctx, tx, scim.UserDeleted, id, deleted, data)
	})
}

// touchGroupsOf gives every group the user belongs to a new version and meta.lastModified (now), in one
// statement: its members are about to change.
func (s *Store) touchGroupsOf(ctx context.Context, tx *sql.Tx, userID string) error {
	t := time.Now().UTC().Truncate(time.Millisecond)
	js, err := json.Marshal(t) // as the group's document holds its times
	if err != nil {
		return err
	}
	set := `json_set(data, '$.meta.lastModified', ?)`
	if s.dialect == Postgres {
		set = `jsonb_set(data, '{meta,lastModified}', CAST(? AS JSONB))`
	}
	arg := any(string(js))
	if s.dialect == SQLite {
		arg = strings.Trim(string(js), `"`)
	}
	_, err = tx.ExecContext(ctx, s.q(`UPDATE scim_groups SET version = version + 1, last_modified = ?, data = `+set+`
		WHERE tenant = ? AND id IN (SELECT group_id FROM scim_members WHERE tenant = ? AND user_id = ?)`),
		t.Format(timeFormat), arg, tenantOf(ctx), tenantOf(ctx), userID)
	return err
}

// querier is what a write needs of the database: *sql.DB, or *sql.Tx when the outbox joins the write.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// write runs f on the database, in a transaction when the outbox must commit with the write.
func (s *Store) write(ctx context.Context, f func(querier) error) error {
	if !s.outbox {
		return f(s.wdb)
	}
	return s.tx(ctx, func(tx *sql.Tx) error { return f(tx) })
}

// missOrStale tells why a conditional write touched no row: the user is gone, or its version moved on. It
// asks through the write's own db, so that a write never waits for a reader's connection while it holds the
// writer's (nor takes a second of the pool, PostgreSQL's, its share counted one).
func (s *Store) missOrStale(ctx context.Context, db querier, id string) error {
	var one int
	err := db.QueryRowContext(ctx, s.q(`SELECT 1 FROM scim_users WHERE tenant = ? AND id = ?`),
		tenantOf(ctx), id).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return scim.ErrNotFound
	case err != nil:
		return err
	}
	return scim.ErrVersionMismatch
}

// mapErr turns a unique-index violation into scim.ErrConflict.
func mapErr(err error) error {
	var pgErr interface{ SQLState() string }
	if errors.As(err, &pgErr) && pgErr.SQLState() == "23505" {
		return scim.ErrConflict
	}
	if code, ok := sqliteCode(err); ok && (code == sqliteConstraintUnique || code == sqliteConstraintPrimaryKey) {
		return scim.ErrConflict
	}
	return err
}

// now is used by migrations to stamp when they ran.
func now() string { return time.Now().UTC().Format(timeFormat) }

// tenantOf is the tenant of ctx. Every exported method has checked with scim.Tenant on entry that ctx carries
// one (and returned ErrNoTenant otherwise), so that the code below it never acts on the tenant "" by accident.
func tenantOf(ctx context.Context) string {
	t, _ := scim.Tenant(ctx)
	return t
}
