package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/shared/sortkey"
	"github.com/scimkit/scim/sqlstore/internal/sqlfilter"
)

// ListGroups implements scim.GroupStore. displayName eq (folded), externalId eq and id eq are index lookups,
// members[value eq "…"] and members eq "…" a subquery on scim_members' user index; other filters compile
// over the group's documents. What the mapping cannot express (a filter on members' display, say) is
// evaluated in Go over the tenant's groups as they stream from the database, keeping only the page (and,
// when the sort cannot be SQL's, the matches), with their members filled in when the filter names them.
func (s *Store) ListGroups(ctx context.Context, q scim.Query, read scim.GroupRead) (_ *scim.GroupPage, err error) {
	maxMembers := read.MaxMembers
	if _, err := scim.Tenant(ctx); err != nil { // every method acts on the context's tenant: tenantOf
		return nil, err
	}
	defer s.classify(ctx, &err)
	ctx, done, err := s.enter(ctx, false)
	if err != nil {
		return nil, err
	}
	defer done.leave()
	m := groupMapping(s.dialect, tenantOf(ctx))
	where, args := s.tenantIs(), []any{tenantOf(ctx)}
	inGo := false
	if q.Filter != nil {
		frag, fargs, err := m.Compile(q.Filter, 2)
		switch {
		case errors.Is(err, sqlfilter.ErrUnsupported):
			inGo = true
		case err != nil:
			return nil, err
		default:
			where, args = where+" AND ("+frag+")", append(args, fargs...)
		}
	}
	order, sortInGo := "seq", false
	if q.SortBy.Attr != nil {
		by, err := m.OrderBy(q.SortBy, q.Descending)
		switch {
		case errors.Is(err, sqlfilter.ErrUnsupported):
			sortInGo = true
		case err != nil:
			return nil, err
		default:
			order = by + ", seq"
		}
	}
	var page *scim.GroupPage
	if inGo || sortInGo {
		page, err = s.listGroupsInGo(ctx, q, where, args, order, inGo, sortInGo)
	} else {
		page, err = s.listGroupsInSQL(ctx, q, where, args, order)
	}
	if err != nil {
		return nil, err
	}
	if maxMembers > 0 {
		err = s.loadMembers(ctx, page.Groups, maxMembers)
	}
	return page, err
}

func (s *Store) listGroupsInSQL(ctx context.Context, q scim.Query, where string, args []any, order string) (*scim.GroupPage, error) {
	page := &scim.GroupPage{Groups: []*scim.Group{}}
	err := s.bounded(ctx, pinned(q, indexedGroup), func(r reader) error {
		return s.groupPage(ctx, r, q, where, args, order, page)
	})
	return page, err
}

// groupPage reads the index page of q in order into page, with its total.
func (s *Store) groupPage(ctx context.Context, r reader, q scim.Query, where string, args []any, order string, page *scim.GroupPage) error {
	offset := max(q.StartIndex, 1) - 1
	if q.Count > 0 {
		n := len(args)
		// As for users: the total is a subquery of the page's statement, one snapshot for both.
		query := fmt.Sprintf(`SELECT data, version, (SELECT count(*) FROM scim_groups WHERE %s) FROM scim_groups
			WHERE %s ORDER BY %s LIMIT %s OFFSET %s`, where, where, order, s.placeholder(n+1), s.placeholder(n+2))
		rows, err := r.QueryContext(ctx, query, s.twice(args, q.Count, offset)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var data string
			var version int64
			if err := rows.Scan(&data, &version, &page.TotalResults); err != nil {
				return err
			}
			g, err := decodeGroup(data, version)
			if err != nil {
				return err
			}
			page.Groups = append(page.Groups, g)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(page.Groups) > 0 || offset == 0 {
			return nil
		}
		rows.Close() // before the next statement: a transaction runs one at a time
	}
	return r.QueryRowContext(ctx, `SELECT count(*) FROM scim_groups WHERE `+where, args...).Scan(&page.TotalResults)
}

// listGroupsInGo streams the groups that where selects, in order, matching q.Filter in Go when filterInGo
// and sorting in Go when sortInGo; without a Go sort only the page is kept. A filter that names members
// (members.display eq "…", members.value sw "…") is matched with each group's members filled in (value,
// display, type), as memstore matches it: the selected rows are read first, then their members idBatch
// groups at a time, so that no statement stays open while another runs.
func (s *Store) listGroupsInGo(ctx context.Context, q scim.Query, where string, args []any, order string, filterInGo, sortInGo bool) (*scim.GroupPage, error) {
	page := &scim.GroupPage{Groups: []*scim.Group{}}
	from := max(q.StartIndex, 1) - 1
	type match struct {
		g   *scim.Group
		key any
	}
	var matched []match
	handle := func(data string, version int64, members []any) error {
		var doc map[string]any
		if filterInGo || sortInGo {
			d := json.NewDecoder(bytes.NewReader([]byte(data)))
			d.UseNumber()
			if err := d.Decode(&doc); err != nil {
				return fmt.Errorf("sqlstore: decoding a stored group: %w", err)
			}
			if len(members) > 0 {
				doc["members"] = members
			}
			if filterInGo && !filter.Match(q.Filter, doc) {
				return nil
			}
		}
		i := page.TotalResults
		page.TotalResults++
		switch {
		case sortInGo:
		case i < from || i >= from+q.Count:
			return nil
		}
		g, err := decodeGroup(data, version)
		if err != nil {
			return err
		}
		if sortInGo {
			matched = append(matched, match{g, sortkey.Of(doc, q.SortBy)})
			return nil
		}
		page.Groups = append(page.Groups, g)
		return nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, data, version FROM scim_groups WHERE `+where+` ORDER BY `+order, args...)
	if err != nil {
		return nil, err
	}
	type row struct {
		id, data string
		version  int64
	}
	withMembers := filterInGo && namesAttr(q.Filter, "members")
	var held []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.data, &r.version); err != nil {
			rows.Close()
			return nil, err
		}
		if withMembers {
			held = append(held, r)
			continue
		}
		if err := handle(r.data, r.version, nil); err != nil {
			rows.Close()
			return nil, err
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for lo := 0; lo < len(held); lo += idBatch {
		batch := held[lo:min(lo+idBatch, len(held))]
		ids := make([]string, len(batch))
		for i, r := range batch {
			ids[i] = r.id
		}
		members, err := s.memberDocs(ctx, ids)
		if err != nil {
			return nil, err
		}
		for _, r := range batch {
			if err := handle(r.data, r.version, members[r.id]); err != nil {
				return nil, err
			}
		}
	}
	if sortInGo {
		slices.SortStableFunc(matched, func(a, b match) int { return sortkey.Compare(a.key, b.key, q.Descending) })
		for i := from; i < len(matched) && i < from+q.Count; i++ {
			page.Groups = append(page.Groups, matched[i].g)
		}
	}
	return page, nil
}

// memberDocs returns the members of the groups as a filter sees them in a group's document: value, display
// and type, in MemberIDs' order.
func (s *Store) memberDocs(ctx context.Context, groupIDs []string) (map[string][]any, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT m.group_id, m.user_id, `+s.memberDisplay()+` FROM scim_members m
		JOIN scim_users u ON u.tenant = m.tenant AND u.id = m.user_id
		WHERE m.tenant = `+s.placeholder(1)+` AND m.group_id IN `+s.in(2, len(groupIDs))+` ORDER BY m.group_id, m.user_id`,
		withIDs(groupIDs, tenantOf(ctx))...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]any{}
	for rows.Next() {
		var gid, uid string
		var display sql.NullString
		if err := rows.Scan(&gid, &uid, &display); err != nil {
			return nil, err
		}
		m := map[string]any{"value": uid, "type": "User"}
		if display.Valid && display.String != "" {
			m["display"] = display.String
		}
		out[gid] = append(out[gid], m)
	}
	return out, rows.Err()
}

// MemberIDs implements scim.GroupStore: the ids stream from scim_members' primary key, in ascending id order
// (the column's collation; bytewise on a database whose collation is C, as memstore orders them).
func (s *Store) MemberIDs(ctx context.Context, id string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		stopped := false
		err := s.memberIDs(ctx, id, func(uid string) bool {
			stopped = !yield(uid, nil)
			return !stopped
		})
		if err != nil && !stopped {
			yield("", err)
		}
	}
}

// memberIDs is MemberIDs as a call: yield returns false to stop, which closes the rows.
func (s *Store) memberIDs(ctx context.Context, id string, yield func(userID string) bool) (err error) {
	if _, err := scim.Tenant(ctx); err != nil { // every method acts on the context's tenant: tenantOf
		return err
	}
	defer s.classify(ctx, &err)
	ctx, done, err := s.enter(ctx, false)
	if err != nil {
		return err
	}
	defer done.leave()
	tenant := tenantOf(ctx)
	var one int
	err = s.db.QueryRowContext(ctx, s.q(`SELECT 1 FROM scim_groups WHERE tenant = ? AND id = ?`), tenant, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return scim.ErrNotFound
	}
	if err != nil {
		return err
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT user_id FROM scim_members WHERE tenant = ? AND group_id = ? ORDER BY user_id`),
		tenant, id)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var uid string
		if err := rows.Scan(&uid); err != nil {
			return err
		}
		if !yield(uid) {
			return nil
		}
	}
	return rows.Err()
}

// groupsOfQuery is GroupsOf's statement for n users. The one for a single user, every GET's and every
// eq hit's, is written once per dialect.
func (s *Store) groupsOfQuery(n int) string {
	if n == 1 {
		return groupsOfOne[s.dialect]
	}
	return groupsOfText(s.placeholder(1), s.in(2, n))
}

func groupsOfText(tenant, in string) string {
	return `SELECT m.user_id, g.id, g.display_name FROM scim_members m
		JOIN scim_groups g ON g.tenant = m.tenant AND g.id = m.group_id
		WHERE m.tenant = ` + tenant + ` AND m.user_id IN ` + in + ` ORDER BY m.user_id, g.seq`
}

var groupsOfOne = map[Dialect]string{SQLite: groupsOfText("?", "(?)"), Postgres: groupsOfText("$1", "($2)")}

// GroupsOf implements scim.GroupStore: one query (per idBatch users) over the (tenant, user_id) index,
// joined to the groups for their displayName. Users without groups are absent from the map.
func (s *Store) GroupsOf(ctx context.Context, userIDs []string) (_ map[string][]scim.GroupRef, err error) {
	if _, err := scim.Tenant(ctx); err != nil { // every method acts on the context's tenant: tenantOf
		return nil, err
	}
	defer s.classify(ctx, &err)
	ctx, done, err := s.enter(ctx, false)
	if err != nil {
		return nil, err
	}
	defer done.leave()
	out := map[string][]scim.GroupRef{}
	ids := dedupe(userIDs)
	for lo := 0; lo < len(ids); lo += idBatch {
		batch := ids[lo:min(lo+idBatch, len(ids))]
		rows, err := s.db.QueryContext(ctx, s.groupsOfQuery(len(batch)), withIDs(batch, tenantOf(ctx))...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var uid string
			var ref scim.GroupRef
			if err := rows.Scan(&uid, &ref.Value, &ref.Display); err != nil {
				rows.Close()
				return nil, err
			}
			ref.Type = "direct"
			out[uid] = append(out[uid], ref)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
