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
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/internal/stored"
	"github.com/scimkit/scim/schema"
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

	noMigrate bool // WithoutMigrations: check the schema's version instead of migrating

	// Operations: pools, the SQLite log, closing.
	wdb       *sql.DB          // writes: db, or WithWriter's pool (for SQLite: one connection, as SQLite has one writer)
	temporary func(error) bool // WithTemporary: the driver's own temporary failures
	pool      PoolConfig
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
// a pool of one connection (SetMaxOpenConns(1)), so that writes queue in database/sql, within their
// deadlines, for the one writer SQLite serves, instead of racing for its lock in its busy handler (which
// sleeps, polls and fails with SQLITE_BUSY when the busy timeout runs out); sqlite.Open does this. Close
// closes w too.
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

func (s *Store) toRow(u *scim.User) (row, error) {
	data, err := json.Marshal(u)
	if err != nil {
		return row{}, err
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return row{}, err
	}
	search, err := json.Marshal(stored.FoldDocument(s.rt, doc))
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
	r, err := s.toRow(u)
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

// Get implements scim.Store.
func (s *Store) Get(ctx context.Context, id string) (_ *scim.User, err error) {
	if _, err := scim.Tenant(ctx); err != nil { // every method acts on the context's tenant: tenantOf
		return nil, err
	}
	defer s.classify(ctx, &err)
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
	r, err := s.toRow(u)
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
			return s.missOrStale(ctx, u.ID)
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
	query := `DELETE FROM scim_users WHERE tenant = ? AND id = ?`
	args := []any{tenantOf(ctx), id}
	query, args = ifVersion(query, args, version)
	// The user's memberships go with it, in the same transaction, and each group it leaves gets a new version
	// and lastModified, as any change of its members does (MemoryStore does the same). On PostgreSQL those
	// groups' rows are locked first, in id order, before the user's: a group write holds its group's row,
	// then a key-share lock on the users it adds, so taking them in the same order never deadlocks with it. A
	// group write adding the user holds that key-share lock: the DELETE waits for it, and the next
	// statements see its rows.
	tenant := tenantOf(ctx)
	return s.tx(ctx, func(tx *sql.Tx) error {
		if s.dialect == Postgres {
			if _, err := collect(ctx, tx, `SELECT id FROM scim_groups WHERE tenant = $1 AND id IN
				(SELECT group_id FROM scim_members WHERE tenant = $1 AND user_id = $2) ORDER BY id FOR UPDATE`,
				[]any{tenant, id}); err != nil {
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

// missOrStale tells why a conditional write touched no row: the user is gone, or its version moved on.
func (s *Store) missOrStale(ctx context.Context, id string) error {
	var one int
	err := s.db.QueryRowContext(ctx, s.q(`SELECT 1 FROM scim_users WHERE tenant = ? AND id = ?`),
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

// List implements scim.Store. Filter, order and page are pushed down to SQL; what the mapping cannot express
// is answered by scim.ApplyQuery over the tenant's users.
func (s *Store) List(ctx context.Context, q scim.Query) (_ *scim.Page, err error) {
	if _, err := scim.Tenant(ctx); err != nil { // every method acts on the context's tenant: tenantOf
		return nil, err
	}
	defer s.classify(ctx, &err)
	where, args, err := s.where(ctx, q.Filter)
	if errors.Is(err, sqlfilter.ErrUnsupported) {
		where, args, _ = s.where(ctx, nil)
		return s.listInGo(ctx, q, where, args)
	}
	if err != nil {
		return nil, err
	}
	if q.SortBy.Attr == nil { // creation order: bookmarked keyset walks, counted totals (walk.go)
		return s.listSeq(ctx, q, where, args, q.Filter != nil)
	}
	order := "seq"
	if q.SortBy.Attr != nil {
		by, err := s.mapping.OrderBy(q.SortBy, q.Descending)
		if errors.Is(err, sqlfilter.ErrUnsupported) { // SQL still filters: only the matches are sorted in Go
			q.Filter = nil
			return s.listInGo(ctx, q, where, args)
		}
		if err != nil {
			return nil, err
		}
		order = by + ", seq"
	}
	page := &scim.Page{Users: []*scim.User{}}
	if q.Count > 0 {
		offset := max(q.StartIndex, 1) - 1
		rows, err := s.db.QueryContext(ctx, s.pageQuery(where, len(args), order), s.twice(args, q.Count, offset)...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		size := 0
		for rows.Next() {
			var data string
			var version int64
			if err := rows.Scan(&data, &version, &page.TotalResults); err != nil {
				return nil, err
			}
			if size += len(data); q.MaxBytes > 0 && size > q.MaxBytes && len(page.Users) > 0 {
				break // a shorter page (RFC 7644 §3.4.2.4) rather than more than the handler can send
			}
			u, err := decodeUser(data, version)
			if err != nil {
				return nil, err
			}
			page.Users = append(page.Users, u)
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if len(page.Users) > 0 || offset == 0 { // an empty first page: nothing matches, in the same snapshot
			return page, nil
		}
	}
	// No row to carry the total (count=0, or a page past the end): count on its own.
	err = s.db.QueryRowContext(ctx, `SELECT count(*) FROM scim_users WHERE `+where, args...).Scan(&page.TotalResults)
	return page, err
}

// pageQuery is the query of one index page: the page's rows and, in each, the total count. The total is an
// uncorrelated subquery, counted once and in the page's own snapshot (so the two agree under concurrent
// writes) and from the index alone: a window count(*) OVER () would read every matching row whole before
// LIMIT applies. The WHERE takes n arguments; the arguments are s.twice(whereArgs, limit, offset).
func (s *Store) pageQuery(where string, n int, order string) string {
	return fmt.Sprintf(`SELECT data, version, (SELECT count(*) FROM scim_users WHERE %s) FROM scim_users
		WHERE %s ORDER BY %s LIMIT %s OFFSET %s`, where, where, order, s.placeholder(n+1), s.placeholder(n+2))
}

// twice returns the arguments of a query that holds its WHERE twice (the total's subquery, then the page's),
// followed by tail: PostgreSQL's numbered placeholders serve both copies, SQLite's ? need them twice.
func (s *Store) twice(args []any, tail ...any) []any {
	out := append([]any{}, args...)
	if s.dialect == SQLite {
		out = append(out, args...)
	}
	return append(out, tail...)
}

// where returns the WHERE clause for the tenant and a filter, with its arguments.
func (s *Store) where(ctx context.Context, f filter.Expr) (string, []any, error) {
	where, args := "tenant = "+s.placeholder(1), []any{tenantOf(ctx)}
	if f == nil {
		return where, args, nil
	}
	frag, fargs, err := s.mapping.Compile(f, 2)
	if err != nil {
		return "", nil, err
	}
	return where + " AND (" + frag + ")", append(args, fargs...), nil
}

func (s *Store) placeholder(n int) string {
	if s.dialect == Postgres {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

// listInGo answers a query the mapping cannot express by evaluating it in Go, streaming the tenant's rows
// through a scim.Collector: only the page (or a heap as deep as the page, when sorting) is held, the context
// is checked as rows come, and past q.MaxScan rows the query is refused with scim.ErrTooMany.
// The rows are those of where (the tenant's, or the matches of a filter SQL could express).
//
// A filter or sort naming the read-only groups attribute (groups.display eq "…", not (groups pr)) is matched
// with each user's groups filled in, as MemoryStore matches it: the rows are read idBatch at a time (keyset
// on seq, no statement left open) and each batch's groups come from one GroupsOf.
func (s *Store) listInGo(ctx context.Context, q scim.Query, where string, args []any) (*scim.Page, error) {
	c := scim.NewCollector(ctx, q)
	if !namesAttr(q.Filter, "groups") && (q.SortBy.Attr == nil || q.SortBy.Attr.Name != "groups" || q.SortBy.Extension()) {
		err := s.stream(ctx, q.MaxScan, `SELECT seq, data, version FROM scim_users WHERE `+where+` ORDER BY seq`,
			func(_ int64, u *scim.User) error { return c.Add(u) }, args...)
		if err != nil {
			return nil, err
		}
		return c.Page(), nil
	}
	query := `SELECT seq, data, version FROM scim_users WHERE ` + where + ` AND seq > ` + s.placeholder(len(args)+1) +
		` ORDER BY seq LIMIT ` + strconv.Itoa(idBatch)
	for after := int64(0); ; {
		var batch []*scim.User
		err := s.stream(ctx, 0, query, func(seq int64, u *scim.User) error {
			batch, after = append(batch, u), seq
			return nil
		}, append(slices.Clip(args), after)...)
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(batch))
		for i, u := range batch {
			ids[i] = u.ID
		}
		of, err := s.GroupsOf(ctx, ids)
		if err != nil {
			return nil, err
		}
		for _, u := range batch {
			u.Groups = of[u.ID]
			if err := c.Add(u); err != nil {
				return nil, err
			}
		}
		if len(batch) < idBatch {
			break
		}
	}
	page := c.Page()
	for _, u := range page.Users {
		u.Groups = nil // computed by the handler, as for any other page
	}
	return page, nil
}

// namesAttr reports whether the filter compares the core attribute attr (of the core schema) anywhere.
func namesAttr(e filter.Expr, attr string) bool {
	switch x := e.(type) {
	case *filter.Logical:
		return namesAttr(x.Left, attr) || namesAttr(x.Right, attr)
	case *filter.Not:
		return namesAttr(x.X, attr)
	case *filter.ValuePath:
		return x.Path.Attr != nil && x.Path.Attr.Name == attr && !x.Path.Extension()
	case *filter.Compare:
		return x.Path.Attr != nil && x.Path.Attr.Name == attr && !x.Path.Extension()
	}
	return false
}

// stream decodes the users of a query of (seq, data, version) rows one at a time, handing each to f. It
// reads one row past maxScan (when positive) at most: LIMIT keeps the database from producing more. The
// query's placeholders are the dialect's own.
func (s *Store) stream(ctx context.Context, maxScan int, query string, f func(seq int64, u *scim.User) error, args ...any) error {
	if maxScan > 0 {
		query += " LIMIT " + strconv.Itoa(maxScan+1)
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var seq, version int64
		var data string
		if err := rows.Scan(&seq, &data, &version); err != nil {
			return err
		}
		u, err := decodeUser(data, version)
		if err != nil {
			return err
		}
		if err := f(seq, u); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ListCursor implements scim.CursorLister with keyset pagination on the creation sequence: a page starts
// after the last row of the previous one, so its cost does not grow with depth and rows created or deleted
// between pages neither repeat nor hide others. Cursors are sealed (scim.CursorSealer) with a key the
// database keeps, so every replica reads every replica's cursors and no tenant learns another's numbers.
func (s *Store) ListCursor(ctx context.Context, q scim.Query, cursor string) (_ *scim.Page, err error) {
	if _, err := scim.Tenant(ctx); err != nil { // every method acts on the context's tenant: tenantOf
		return nil, err
	}
	defer s.classify(ctx, &err)
	var after int64
	if cursor != "" {
		var err error
		if after, err = s.cursors.Open(tenantOf(ctx), cursor); err != nil {
			return nil, err
		}
	}
	where, args, err := s.where(ctx, q.Filter)
	if errors.Is(err, sqlfilter.ErrUnsupported) {
		return s.listCursorInGo(ctx, q, after)
	}
	if err != nil {
		return nil, err
	}
	page := &scim.Page{Users: []*scim.User{}}
	if q.Count <= 0 {
		err := s.db.QueryRowContext(ctx, `SELECT `+countOf(where, q.Filter != nil), args...).Scan(&page.TotalResults)
		return page, err
	}
	// The total is a subquery of the page's own statement: one snapshot, so the two always agree.
	n := len(args)
	all := s.twice(args, after, q.Count+1)
	query := fmt.Sprintf(`SELECT seq, data, version, %s
		FROM scim_users WHERE %s AND seq > %s ORDER BY seq LIMIT %s`,
		countOf(where, q.Filter != nil), where, s.placeholder(n+1), s.placeholder(n+2))
	rows, err := s.db.QueryContext(ctx, query, all...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var last int64
	got := false
	size := 0
	for rows.Next() {
		var seq, version int64
		var data string
		if err := rows.Scan(&seq, &data, &version, &page.TotalResults); err != nil {
			return nil, err
		}
		got = true
		size += len(data)
		// One row more than the page, or than MaxBytes allows: there is a next page, after the last user sent.
		if len(page.Users) == q.Count || q.MaxBytes > 0 && size > q.MaxBytes && len(page.Users) > 0 {
			page.NextCursor = s.cursors.Seal(tenantOf(ctx), last)
			break
		}
		u, err := decodeUser(data, version)
		if err != nil {
			return nil, err
		}
		page.Users = append(page.Users, u)
		last = seq
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if !got && after > 0 { // no row to carry the total: the end, or users deleted meanwhile (a first page without rows means no match)
		err = s.db.QueryRowContext(ctx, `SELECT `+countOf(where, q.Filter != nil), args...).Scan(&page.TotalResults)
	}
	return page, err
}

// listCursorInGo is ListCursor for a filter the mapping cannot express: the rows are streamed and matched
// in Go, at most q.MaxScan of them (scim.ErrTooMany past it), keeping only the page.
func (s *Store) listCursorInGo(ctx context.Context, q scim.Query, after int64) (*scim.Page, error) {
	page := &scim.Page{Users: []*scim.User{}}
	var last int64
	scanned := 0
	err := s.stream(ctx, q.MaxScan, `SELECT seq, data, version FROM scim_users WHERE tenant = `+s.placeholder(1)+` ORDER BY seq`,
		func(seq int64, u *scim.User) error {
			if scanned++; q.MaxScan > 0 && scanned > q.MaxScan {
				return scim.ErrTooMany
			}
			if scanned%64 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if !q.Matches(u) {
				return nil
			}
			page.TotalResults++
			switch {
			case seq <= after:
			case len(page.Users) < q.Count:
				page.Users = append(page.Users, u)
				last = seq
			case page.NextCursor == "" && q.Count > 0:
				page.NextCursor = s.cursors.Seal(tenantOf(ctx), last)
			}
			return nil
		}, tenantOf(ctx))
	if err != nil {
		return nil, err
	}
	return page, nil
}

// now is used by migrations to stamp when they ran.
func now() string { return time.Now().UTC().Format(timeFormat) }

// tenantOf is the tenant of ctx. Every exported method has checked with scim.Tenant on entry that ctx carries
// one (and returned ErrNoTenant otherwise), so that the code below it never acts on the tenant "" by accident.
func tenantOf(ctx context.Context) string {
	t, _ := scim.Tenant(ctx)
	return t
}
