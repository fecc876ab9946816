package sqlstore

// Index paging (startIndex/count) whose pages cost the same at any depth, for clients that walk a whole
// tenant page by page (Okta's import does, with count=100, and never uses cursors).
//
// Two costs grew with depth: OFFSET, which reads and drops every row before the page, and totalResults,
// which counted every matching row again on each page. They are answered by two tables, both kept in the
// database so that every replica sees what any replica served:
//
//   - scim_user_counts holds each tenant's number of users, kept by triggers on scim_users in the
//     transaction of each insert and delete (whoever writes: the store, a host's own statements, a bulk
//     load), initialised from the rows by the migration that creates it. The unfiltered total is one row.
//   - scim_bookmarks records, for each page served in creation order, where it ended: the tenant, a hash of
//     the compiled query, the index the next page starts at, and the seq of the page's last user. A request
//     whose startIndex is such an index continues after that seq (keyset on seq, an index range) instead of
//     counting rows from the start. Any other startIndex is answered by OFFSET, as before.

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/sqlstore/internal/sqlfilter"
)

const (
	// bookmarkTTL is how long a bookmark serves: a walk's next page comes within seconds; a walk resumed
	// later starts with an OFFSET page, which records a fresh bookmark.
	bookmarkTTL = 15 * time.Minute
	// bookmarksPerTenant bounds a tenant's bookmarks: a walk only needs its latest, so this many serve as
	// many walks at once; older ones are pruned as new ones are recorded.
	bookmarksPerTenant = 256
	// filteredCountCap bounds the rows a filtered page counts for its totalResults (see listSeq).
	filteredCountCap = 10_000
)

// walkMigration adds the user counter (with the triggers that keep it) and the bookmarks of index walks.
// The counter is initialised in the migration's transaction after the triggers exist; on PostgreSQL
// CREATE TRIGGER locks scim_users against writes until that transaction commits, and SQLite's migration
// holds the write lock, so no row is counted twice or missed.
var walkMigration = migration{
	name: "walk",
	postgres: `
CREATE TABLE scim_user_counts (tenant TEXT PRIMARY KEY, n BIGINT NOT NULL);
CREATE FUNCTION scim_user_counts_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	-- one statement per INSERT statement (a bulk load updates each tenant's row once), tenants in order so
	-- that two multi-tenant inserts lock counters in the same order
	INSERT INTO scim_user_counts AS c (tenant, n)
		SELECT tenant, count(*) FROM scim_new_users GROUP BY tenant ORDER BY tenant
		ON CONFLICT (tenant) DO UPDATE SET n = c.n + excluded.n;
	RETURN NULL;
END $$;
CREATE FUNCTION scim_user_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE scim_user_counts c SET n = c.n - d.n
		FROM (SELECT tenant, count(*) AS n FROM scim_old_users GROUP BY tenant) d WHERE c.tenant = d.tenant;
	RETURN NULL;
END $$;
CREATE FUNCTION scim_user_counts_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE scim_user_counts SET n = n - 1 WHERE tenant = OLD.tenant;
	INSERT INTO scim_user_counts AS c (tenant, n) VALUES (NEW.tenant, 1)
		ON CONFLICT (tenant) DO UPDATE SET n = c.n + 1;
	RETURN NULL;
END $$;
CREATE FUNCTION scim_user_counts_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM scim_user_counts;
	RETURN NULL;
END $$;
CREATE TRIGGER scim_users_count_insert AFTER INSERT ON scim_users
	REFERENCING NEW TABLE AS scim_new_users FOR EACH STATEMENT EXECUTE FUNCTION scim_user_counts_insert();
CREATE TRIGGER scim_users_count_delete AFTER DELETE ON scim_users
	REFERENCING OLD TABLE AS scim_old_users FOR EACH STATEMENT EXECUTE FUNCTION scim_user_counts_delete();
CREATE TRIGGER scim_users_count_move AFTER UPDATE OF tenant ON scim_users
	FOR EACH ROW WHEN (OLD.tenant IS DISTINCT FROM NEW.tenant) EXECUTE FUNCTION scim_user_counts_move();
CREATE TRIGGER scim_users_count_truncate AFTER TRUNCATE ON scim_users
	FOR EACH STATEMENT EXECUTE FUNCTION scim_user_counts_truncate();
INSERT INTO scim_user_counts (tenant, n) SELECT tenant, count(*) FROM scim_users GROUP BY tenant;
CREATE TABLE scim_bookmarks (
	tenant    TEXT NOT NULL,
	query     TEXT NOT NULL,
	pos       BIGINT NOT NULL,
	after_seq BIGINT,
	created   BIGINT NOT NULL,
	PRIMARY KEY (tenant, query, pos)
);
CREATE INDEX scim_bookmarks_tenant_created ON scim_bookmarks (tenant, created);
CREATE INDEX scim_bookmarks_created ON scim_bookmarks (created);`,
	sqlite: `
CREATE TABLE scim_user_counts (tenant TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
CREATE TRIGGER scim_users_count_insert AFTER INSERT ON scim_users BEGIN
	INSERT INTO scim_user_counts (tenant, n) VALUES (NEW.tenant, 1) ON CONFLICT (tenant) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER scim_users_count_delete AFTER DELETE ON scim_users BEGIN
	UPDATE scim_user_counts SET n = n - 1 WHERE tenant = OLD.tenant;
END;
CREATE TRIGGER scim_users_count_move AFTER UPDATE OF tenant ON scim_users WHEN OLD.tenant IS NOT NEW.tenant BEGIN
	UPDATE scim_user_counts SET n = n - 1 WHERE tenant = OLD.tenant;
	INSERT INTO scim_user_counts (tenant, n) VALUES (NEW.tenant, 1) ON CONFLICT (tenant) DO UPDATE SET n = n + 1;
END;
INSERT INTO scim_user_counts (tenant, n) SELECT tenant, count(*) FROM scim_users GROUP BY tenant;
CREATE TABLE scim_bookmarks (
	tenant    TEXT NOT NULL,
	query     TEXT NOT NULL,
	pos       INTEGER NOT NULL,
	after_seq INTEGER,
	created   INTEGER NOT NULL,
	PRIMARY KEY (tenant, query, pos)
) WITHOUT ROWID;
CREATE INDEX scim_bookmarks_tenant_created ON scim_bookmarks (tenant, created);
CREATE INDEX scim_bookmarks_created ON scim_bookmarks (created);`,
}

// stmt builds a statement that holds a compiled WHERE clause (whose own placeholders are $1..$n in
// PostgreSQL, positional ? in SQLite) any number of times, plus arguments of its own.
type stmt struct {
	s         *Store
	sb        strings.Builder
	args      []any
	where     string
	whereArgs []any
}

func (s *Store) newStmt(where string, whereArgs []any) *stmt {
	b := &stmt{s: s, where: where, whereArgs: whereArgs, args: make([]any, 0, 3*len(whereArgs)+2)}
	b.sb.Grow(320 + 3*len(where)) // a page's statement repeats the clause up to three times: one allocation
	if s.dialect == Postgres {
		b.args = append(b.args, whereArgs...) // numbered: every copy of the clause uses these
	}
	return b
}

func (b *stmt) sql(text string) *stmt { b.sb.WriteString(text); return b }

// cond writes the WHERE clause once more.
func (b *stmt) cond() *stmt {
	b.sb.WriteString(b.where)
	if b.s.dialect == SQLite {
		b.args = append(b.args, b.whereArgs...)
	}
	return b
}

// arg writes a placeholder bound to v.
func (b *stmt) arg(v any) *stmt {
	b.args = append(b.args, v)
	if b.s.dialect == Postgres {
		b.sb.WriteString(sqlfilter.Placeholder(len(b.args)))
	} else {
		b.sb.WriteString("?")
	}
	return b
}

// cappedEnd closes total's capped count.
var cappedEnd = ` LIMIT ` + strconv.Itoa(filteredCountCap+1) + `) capped)`

// total writes the expression of a page's totalResults. Unfiltered, it is the tenant's counter: exact, one
// row. Filtered, it counts the matches up to filteredCountCap+1 rows: exact up to the cap; listSeq turns a
// count past it into a lower bound.
func (b *stmt) total(filtered bool) *stmt {
	if !filtered {
		// The clause is "tenant = <placeholder>" (Store.where), a condition scim_user_counts has too.
		return b.sql(`COALESCE((SELECT n FROM scim_user_counts WHERE `).cond().sql(`), 0)`)
	}
	return b.sql(`(SELECT count(*) FROM (SELECT 1 FROM scim_users WHERE `).cond().sql(cappedEnd)
}

// countOf is the exact count of the users matching where, as a scalar expression taking where's arguments
// once: the tenant's counter when where is the tenant alone, else a count of the matches.
func countOf(where string, filtered bool) string {
	if !filtered {
		return `COALESCE((SELECT n FROM scim_user_counts WHERE ` + where + `), 0)`
	}
	return `(SELECT count(*) FROM scim_users WHERE ` + where + `)`
}

// queryKey identifies a query for bookmarks: its compiled WHERE clause and arguments (the tenant, the
// filter resolved against the schema, so that two spellings of one filter share bookmarks) in creation
// order, the only order walked by keyset.
func queryKey(where string, args []any) string {
	h := sha256.New()
	fmt.Fprintf(h, "seq\x00%s\x00", where)
	for _, a := range args {
		fmt.Fprintf(h, "%T=%v\x00", a, a)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// listSeq answers an index page in creation order (no sortBy), the order of Okta's imports. A page whose
// startIndex is where a page of the same query ended (a bookmark) continues after that page's last user:
// users created or deleted meanwhile shift no one, so a walk neither skips nor repeats a user that existed
// throughout. Any other startIndex is an OFFSET from the start, the position RFC 7644 defines; its rows are
// found through the (tenant, seq) index, before any user is read whole.
//
// totalResults comes from the page's own statement (one snapshot). It is exact for the unfiltered list
// and for a filter matching at most filteredCountCap users. Past the cap it is a lower bound, at least
// the cap+1 and always beyond the last index served while more users match: a client that pages until
// startIndex passes totalResults still reaches the end, without each page counting a large match set.
func (s *Store) listSeq(ctx context.Context, q scim.Query, where string, args []any, filtered bool) (*scim.Page, error) {
	tenant := tenantOf(ctx)
	page := &scim.Page{Users: []*scim.User{}}
	if q.Count <= 0 {
		if err := s.checkScan(ctx, q, where, args, false); err != nil {
			return nil, err
		}
		b := s.newStmt(where, args).sql(`SELECT `).total(filtered)
		err := s.bounded(ctx, pinned(q, indexedUser), func(r reader) error {
			return r.QueryRowContext(ctx, b.sb.String(), b.args...).Scan(&page.TotalResults)
		})
		page.TotalResults = boundTotal(page.TotalResults, filtered, 0)
		return page, err
	}
	offset := max(q.StartIndex, 1) - 1
	var key string     // queryKey's, made only for a page that reads or writes a bookmark (a hash: not free)
	after := int64(-1) // the bookmark's seq, or -1: none
	if offset > 0 {
		key = queryKey(where, args)
		after = s.bookmark(ctx, tenant, key, offset+1)
	}
	if err := s.checkScan(ctx, q, where, args, after >= 0); err != nil {
		return nil, err
	}
	query, qargs := s.seqPage(where, args, filtered, after, offset, q.Count+1) // one more: is there a next page?
	var last int64
	var got, more bool
	err := s.bounded(ctx, pinned(q, indexedUser), func(r reader) error {
		rows, err := r.QueryContext(ctx, query, qargs...)
		if err != nil {
			return err
		}
		defer rows.Close()
		if last, got, more, err = readPage(rows, q, page); err != nil {
			return err
		}
		rows.Close()
		if got || offset == 0 { // rows carry the total; an empty first page: nothing matches, in the same snapshot
			return nil
		}
		// past the end, or users deleted meanwhile: no row carried the total
		b := s.newStmt(where, args).sql(`SELECT `).total(filtered)
		return r.QueryRowContext(ctx, b.sb.String(), b.args...).Scan(&page.TotalResults)
	})
	if err != nil {
		return nil, err
	}
	if !got && offset == 0 {
		return page, nil
	}
	served := offset + len(page.Users)
	if more {
		page.TotalResults = boundTotal(page.TotalResults, filtered, served+1)
		if key == "" {
			key = queryKey(where, args)
		}
		s.markPage(ctx, tenant, key, served+1, last)
	} else {
		page.TotalResults = boundTotal(page.TotalResults, filtered, served)
	}
	return page, nil
}

// seqPage is the statement of a page of limit rows (seq, data, version, total) in creation order: after
// the user at seq after when after >= 0, else from the offset-th match on.
func (s *Store) seqPage(where string, args []any, filtered bool, after int64, offset, limit int) (string, []any) {
	b := s.newStmt(where, args).sql(`SELECT seq, data, version, `).total(filtered).
		sql(` FROM scim_users WHERE `).cond()
	switch {
	case after >= 0:
		b.sql(` AND seq > `).arg(after)
	case offset > 0: // the offset-th seq from the (tenant, seq) index alone, then only the page's rows read whole
		b.sql(` AND seq >= (SELECT seq FROM scim_users WHERE `).cond().sql(` ORDER BY seq LIMIT 1 OFFSET `).arg(offset).sql(`)`)
	}
	b.sql(` ORDER BY seq LIMIT `).arg(limit)
	return b.sb.String(), b.args
}

// boundTotal turns a filtered count that reached the cap into the lower bound listSeq documents: at least
// atLeast (the last index served, plus one while more users match).
func boundTotal(total int, filtered bool, atLeast int) int {
	if filtered && total > filteredCountCap {
		return max(total, atLeast)
	}
	return total
}

// bookmark returns the seq after which the page of the query starting at index pos continues, or -1 when
// no live bookmark says (or two walks disagreed: see markPage). A failed lookup is a miss: OFFSET is correct.
func (s *Store) bookmark(ctx context.Context, tenant, key string, pos int) int64 {
	var after sql.NullInt64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT after_seq FROM scim_bookmarks
		WHERE tenant = ? AND query = ? AND pos = ? AND created >= ?`),
		tenant, key, pos, time.Now().Add(-bookmarkTTL).UnixMilli()).Scan(&after)
	if err != nil || !after.Valid {
		return -1
	}
	return after.Int64
}

// markPage records that the page of the query ending before index pos ended with the user at seq after,
// and prunes expired bookmarks and the tenant's oldest past bookmarksPerTenant. Two live walks of one query
// that ended the same index on different users (the users before it changed between them) make the
// bookmark ambiguous (NULL): neither can tell which was its own, so that index is served by OFFSET. A failure
// is ignored: the page is served, and the next one falls back to OFFSET (as on a read-only replica).
//
// On SQLite the write takes its turn at the writer's gate: a List does not hold the writer unannounced.
// (Waiting for it while holding a reader's turn cannot deadlock: calls holding the writer wait for nothing
// else.) On PostgreSQL, one pool, it runs on the List's own turn.
func (s *Store) markPage(ctx context.Context, tenant, key string, pos int, after int64) {
	if s.writers != s.readers {
		l, err := s.writers.enter(ctx, tenant)
		if err != nil {
			return
		}
		defer s.writers.leave(l)
	}
	now := time.Now()
	expired := now.Add(-bookmarkTTL).UnixMilli()
	prune := `DELETE FROM scim_bookmarks WHERE tenant = ? AND (query, pos) IN (SELECT query, pos FROM scim_bookmarks
		WHERE tenant = ? ORDER BY created DESC, query, pos LIMIT -1 OFFSET ` + strconv.Itoa(bookmarksPerTenant) + `)`
	if s.dialect == Postgres {
		prune = strings.Replace(prune, "LIMIT -1", "LIMIT ALL", 1)
	}
	_ = s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO scim_bookmarks (tenant, query, pos, after_seq, created)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant, query, pos) DO UPDATE SET
			after_seq = CASE WHEN scim_bookmarks.created < ? OR scim_bookmarks.after_seq = excluded.after_seq
				THEN excluded.after_seq END,
			created = excluded.created`),
			tenant, key, pos, after, now.UnixMilli(), expired); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM scim_bookmarks WHERE created < ?`), expired); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q(prune), tenant, tenant)
		return err
	})
}
