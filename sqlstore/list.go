package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/schema"
	"github.com/scimkit/scim/sqlstore/internal/sqlfilter"
)

// List implements scim.Store. Filter, order and page are pushed down to SQL; what the mapping cannot express
// is answered by scim.ApplyQuery over the tenant's users.
func (s *Store) List(ctx context.Context, q scim.Query) (_ *scim.Page, err error) {
	if _, err := scim.Tenant(ctx); err != nil { // every method acts on the context's tenant: tenantOf
		return nil, err
	}
	defer s.classify(ctx, &err)
	ctx, done, err := s.enter(ctx, false)
	if err != nil {
		return nil, err
	}
	defer done.leave()
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
	if err := s.checkScan(ctx, q, where, args, false); err != nil { // every sort, in SQL or in Go, examines its candidates
		return nil, err
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
	err = s.bounded(ctx, pinned(q, indexedUser), func(r reader) error { return s.sortedPage(ctx, r, q, where, args, order, page) })
	return page, err
}

// sortedPage reads the index page of q in order into page, with its total.
func (s *Store) sortedPage(ctx context.Context, r reader, q scim.Query, where string, args []any, order string, page *scim.Page) error {
	if q.Count > 0 {
		offset := max(q.StartIndex, 1) - 1
		rows, err := r.QueryContext(ctx, s.pageQuery(where, len(args), order), s.twice(args, q.Count, offset)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		size := 0
		for rows.Next() {
			var data string
			var version int64
			if err := rows.Scan(&data, &version, &page.TotalResults); err != nil {
				return err
			}
			if size += len(data); q.MaxBytes > 0 && size > q.MaxBytes && len(page.Users) > 0 {
				break // a shorter page (RFC 7644 §3.4.2.4) rather than more than the handler can send
			}
			u, err := decodeUser(data, version)
			if err != nil {
				return err
			}
			page.Users = append(page.Users, u)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(page.Users) > 0 || offset == 0 { // an empty first page: nothing matches, in the same snapshot
			return nil
		}
		rows.Close() // before the next statement: a transaction runs one at a time
	}
	// No row to carry the total (count=0, or a page past the end): count on its own.
	return r.QueryRowContext(ctx, `SELECT count(*) FROM scim_users WHERE `+where, args...).Scan(&page.TotalResults)
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
	where := s.tenantIs()
	if f == nil {
		return where, []any{tenantOf(ctx)}, nil
	}
	m := s.mapping
	m.Scope = tenantOf(ctx)   // the link tables' rows of the tenant: bound, not correlated (sqlfilter.Link)
	args := make([]any, 1, 4) // the tenant, then the filter's: one slice, whatever a common filter binds
	args[0] = m.Scope
	frag, args, err := m.CompileAfter(f, args)
	if err != nil {
		return "", nil, err
	}
	return where + " AND (" + frag + ")", args, nil
}

// tenantIs is the condition on the tenant, bound to the first placeholder: every statement's start.
func (s *Store) tenantIs() string {
	if s.dialect == Postgres {
		return "tenant = $1"
	}
	return "tenant = ?"
}

func (s *Store) placeholder(n int) string {
	if s.dialect == Postgres {
		return sqlfilter.Placeholder(n)
	}
	return "?"
}

// listInGo answers a query the mapping cannot express by evaluating it in Go, streaming the tenant's rows
// through a scim.Collector: only the page (or a heap as deep as the page, when sorting) is held, the context
// is checked as rows come, and past q.MaxScan rows the query is refused with scim.ErrTooMany.
// The rows are those of where (the tenant's, or the matches of a filter SQL could express).
//
// A filter or sort naming the read-only groups attribute (groups.display eq "…", not (groups pr)) is matched
// with each user's groups filled in, as memstore matches it: the rows are read idBatch at a time (keyset
// on seq, no statement left open) and each batch's groups come from one GroupsOf.
func (s *Store) listInGo(ctx context.Context, q scim.Query, where string, args []any) (*scim.Page, error) {
	c := scim.NewCollector(ctx, q)
	if err := s.each(ctx, q, where, args, func(_ int64, u *scim.User) error { return c.Add(u) }); err != nil {
		return nil, err
	}
	page := c.Page()
	for _, u := range page.Users {
		u.Groups = nil // computed by the handler, as for any other page
	}
	return page, nil
}

// each streams the users of where to fn in seq order. The caller counts them against q.MaxScan. When q
// names groups, each user comes with its groups: the rows are read idBatch at a time (keyset on seq, no
// statement left open) and each batch's groups come from one GroupsOf.
func (s *Store) each(ctx context.Context, q scim.Query, where string, args []any, fn func(seq int64, u *scim.User) error) error {
	if !namesAttr(q.Filter, "groups") && (q.SortBy.Attr == nil || q.SortBy.Attr.Name != "groups" || q.SortBy.Extension()) {
		return s.stream(ctx, q.MaxScan, `SELECT seq, data, version FROM scim_users WHERE `+where+` ORDER BY seq`, fn, args...)
	}
	query := `SELECT seq, data, version FROM scim_users WHERE ` + where + ` AND seq > ` + s.placeholder(len(args)+1) +
		` ORDER BY seq LIMIT ` + strconv.Itoa(idBatch)
	for after := int64(0); ; {
		var batch []*scim.User
		var seqs []int64
		err := s.stream(ctx, 0, query, func(seq int64, u *scim.User) error {
			batch, seqs, after = append(batch, u), append(seqs, seq), seq
			return nil
		}, append(slices.Clip(args), after)...)
		if err != nil {
			return err
		}
		ids := make([]string, len(batch))
		for i, u := range batch {
			ids[i] = u.ID
		}
		of, err := s.GroupsOf(ctx, ids)
		if err != nil {
			return err
		}
		for i, u := range batch {
			u.Groups = of[u.ID]
			if err := fn(seqs[i], u); err != nil {
				return err
			}
		}
		if len(batch) < idBatch {
			return nil
		}
	}
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
	ctx, done, err := s.enter(ctx, false)
	if err != nil {
		return nil, err
	}
	defer done.leave()
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
	cq := q
	cq.SortBy = schema.Path{} // cursors walk creation order only, by keyset: no OFFSET, no sort
	if err := s.checkScan(ctx, cq, where, args, true); err != nil {
		return nil, err
	}
	page := &scim.Page{Users: []*scim.User{}}
	err = s.bounded(ctx, pinned(q, indexedUser), func(r reader) error {
		if q.Count <= 0 {
			return r.QueryRowContext(ctx, `SELECT `+countOf(where, q.Filter != nil), args...).Scan(&page.TotalResults)
		}
		// The total is a subquery of the page's own statement: one snapshot, so the two always agree.
		n := len(args)
		all := s.twice(args, after, q.Count+1)
		query := fmt.Sprintf(`SELECT seq, data, version, %s
			FROM scim_users WHERE %s AND seq > %s ORDER BY seq LIMIT %s`,
			countOf(where, q.Filter != nil), where, s.placeholder(n+1), s.placeholder(n+2))
		rows, err := r.QueryContext(ctx, query, all...)
		if err != nil {
			return err
		}
		defer rows.Close()
		last, got, more, err := readPage(rows, q, page)
		if err != nil {
			return err
		}
		rows.Close()
		if more { // there is a next page, after the last user sent
			page.NextCursor = s.cursors.Seal(tenantOf(ctx), last)
		}
		if !got && after > 0 { // no row to carry the total: the end, or users deleted meanwhile (a first page without rows means no match)
			return r.QueryRowContext(ctx, `SELECT `+countOf(where, q.Filter != nil), args...).Scan(&page.TotalResults)
		}
		return nil
	})
	return page, err
}

// listCursorInGo is ListCursor for a filter the mapping cannot express: the rows are streamed and matched
// in Go, at most q.MaxScan of them (scim.ErrTooMany past it), keeping only the page.
func (s *Store) listCursorInGo(ctx context.Context, q scim.Query, after int64) (*scim.Page, error) {
	page := &scim.Page{Users: []*scim.User{}}
	var last int64
	scanned := 0
	err := s.each(ctx, q, s.tenantIs(), []any{tenantOf(ctx)}, func(seq int64, u *scim.User) error {
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
	})
	if err != nil {
		return nil, err
	}
	for _, u := range page.Users {
		u.Groups = nil // computed by the handler, as for any other page
	}
	return page, nil
}

// readPage reads rows of (seq, data, version, total) into page: at most q.Count users and, past the first,
// no more than q.MaxBytes of stored JSON (RFC 7644 §3.4.2.4: a shorter page rather than more than the handler
// can send). more reports a row beyond the page (a next page exists), last the seq of the page's last user,
// got whether any row came (each carries the total).
func readPage(rows *sql.Rows, q scim.Query, page *scim.Page) (last int64, got, more bool, err error) {
	size := 0
	for rows.Next() {
		var seq, version int64
		var data string
		if err := rows.Scan(&seq, &data, &version, &page.TotalResults); err != nil {
			return 0, false, false, err
		}
		got = true
		size += len(data)
		if len(page.Users) == q.Count || q.MaxBytes > 0 && size > q.MaxBytes && len(page.Users) > 0 {
			return last, got, true, nil
		}
		u, err := decodeUser(data, version)
		if err != nil {
			return 0, false, false, err
		}
		page.Users = append(page.Users, u)
		last = seq
	}
	return last, got, false, rows.Err()
}
