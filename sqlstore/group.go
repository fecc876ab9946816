package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/schema"
	"github.com/scimkit/scim/shared/stored"
	"github.com/scimkit/scim/sqlstore/internal/sqlfilter"
)

// The outbox types of group changes (WithOutbox). Their entries carry Group (as after the change; as it was
// for GroupDeleted) and GroupID, never User; GroupUpdated and GroupMembers carry the memberships the write
// actually added and removed (ids already members, or not members, are left out). A user's deletion
// removes its memberships without group entries: its UserDeleted entry implies them.
const (
	GroupCreated scim.EventType = "group.created"
	// GroupUpdated: the group's attributes changed (with, perhaps, memberships).
	GroupUpdated scim.EventType = "group.updated"
	// GroupMembers: only memberships changed.
	GroupMembers scim.EventType = "group.members"
	GroupDeleted scim.EventType = "group.deleted"
)

var _ scim.GroupStore = (*Store)(nil)

// idBatch bounds the ids of one statement: far below both databases' limits on bind arguments, and small
// enough that a statement's cost stays proportional to its own ids.
const idBatch = 500

// groupMapping is where the Group schema's attributes live: columns for the indexed ones, the documents for
// the rest, and members in scim_members, those of tenant.
func groupMapping(d Dialect, tenant string) sqlfilter.Mapping {
	return sqlfilter.Mapping{
		Dialect: d.sql(),
		Scope:   tenant,
		Columns: map[string]string{
			"id":                "id",
			"displayName":       "display_name_fold",
			"externalId":        "external_id",
			"meta.created":      "created",
			"meta.lastModified": "last_modified",
		},
		JSON:       "data",
		FoldedJSON: "search",
		Links: map[string]sqlfilter.Link{"members": {
			Table: "scim_members", Scope: "scim_members.tenant",
			Key: "scim_groups.id", Ref: "scim_members.group_id", Value: "scim_members.user_id",
		}},
	}
}

// groupsLink finds a user's groups for `groups.value eq "…"` (a group's members, paged as users). Its Scope,
// the tenant, is bound per query (Mapping.Scope), never correlated with the user's row.
var groupsLink = sqlfilter.Link{
	Table: "scim_members", Scope: "scim_members.tenant",
	Key: "scim_users.id", Ref: "scim_members.user_id", Value: "scim_members.group_id",
}

// groupType is the Group resource type the search copy folds by: built once, never modified.
var groupType = schema.Group()

// groupRow is a group as the columns hold it.
type groupRow struct {
	displayName, fold     string
	externalID            sql.NullString
	created, lastModified string
	data, search          string
}

func groupToRow(g *scim.Group) (groupRow, error) {
	if err := cmp.Or(tooLongToIndex("displayName", filter.Fold(g.DisplayName)), tooLongToIndex("externalId", g.ExternalID)); err != nil {
		return groupRow{}, err
	}
	cp := *g
	cp.Members, cp.MembersOmitted, cp.Meta.Version = nil, false, "" // members live in scim_members
	data, err := json.Marshal(&cp)
	if err != nil {
		return groupRow{}, err
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return groupRow{}, err
	}
	search, err := json.Marshal(stored.FoldDocument(groupType, doc))
	if err != nil {
		return groupRow{}, err
	}
	return groupRow{
		displayName:  g.DisplayName,
		fold:         filter.Fold(g.DisplayName),
		externalID:   sql.NullString{String: g.ExternalID, Valid: g.ExternalID != ""},
		created:      g.Meta.Created.UTC().Format(timeFormat),
		lastModified: g.Meta.LastModified.UTC().Format(timeFormat),
		data:         string(data),
		search:       string(search),
	}, nil
}

func decodeGroup(data string, version int64) (*scim.Group, error) {
	g := new(scim.Group)
	if err := json.Unmarshal([]byte(data), g); err != nil {
		return nil, fmt.Errorf("sqlstore: decoding a stored group: %w", err)
	}
	g.Meta.Version = strconv.FormatInt(version, 10)
	return g, nil
}

// tx runs f in a transaction on the writers' pool: a group write and its memberships commit together. On
// PostgreSQL its statements are bounded by ctx (timeout.go).
func (s *Store) tx(ctx context.Context, f func(*sql.Tx) error) error {
	return s.inTx(ctx, s.wdb, nil, f)
}

// CreateGroup implements scim.GroupStore. The group and its initial members are inserted in one transaction;
// a member id that is no user of the tenant fails it with scim.UnknownMemberError.
func (s *Store) CreateGroup(ctx context.Context, g *scim.Group) (_ *scim.Group, err error) {
	if _, err := scim.Tenant(ctx); err != nil { // every method acts on the context's tenant: tenantOf
		return nil, err
	}
	defer s.classify(ctx, &err)
	ctx, done, err := s.enter(ctx, true)
	if err != nil {
		return nil, err
	}
	defer done.leave()
	r, err := groupToRow(g)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(g.Members))
	for i, m := range g.Members {
		ids[i] = m.Value
	}
	tenant := tenantOf(ctx)
	err = s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO scim_groups
			(tenant, id, display_name, display_name_fold, external_id, created, last_modified, version, data, search)
			VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`),
			tenant, g.ID, r.displayName, r.fold, r.externalID, r.created, r.lastModified, r.data, r.search)
		if err != nil {
			return mapErr(err)
		}
		added, err := s.addMembers(ctx, tx, g.ID, ids)
		if err != nil {
			return err
		}
		return s.recordGroup(ctx, tx, GroupCreated, g.ID, 1, r.data, added, nil)
	})
	if err != nil {
		return nil, err
	}
	g.Meta.Version = "1"
	return g, nil
}

// dedupe returns ids without repetitions, in their first order.
func dedupe(ids []string) []string {
	seen := make(map[string]struct{}, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if _, ok := seen[id]; !ok {
			seen[id] = struct{}{}
			out = append(out, id)
		}
	}
	return out
}

// in returns "(?, ?, …)" for n arguments from the PostgreSQL placeholder first on.
func (s *Store) in(first, n int) string {
	var b strings.Builder
	b.WriteByte('(')
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s.placeholder(first + i))
	}
	b.WriteByte(')')
	return b.String()
}

// withIDs is a statement's arguments: lead, then ids. One slice: the statements bind a batch of ids after
// the tenant (and a group), and joining two slices would allocate twice.
func withIDs(ids []string, lead ...any) []any {
	out := make([]any, len(lead), len(lead)+len(ids))
	copy(out, lead)
	for _, id := range ids {
		out = append(out, id)
	}
	return out
}

// addMembers makes the users ids members of the group, in batches of idBatch: per batch, one SELECT checks
// that they are users of the tenant (on PostgreSQL locking them against a concurrent Delete until the
// transaction ends, so no membership outlives its user) and one INSERT adds the rows not there yet. Cost
// is O(len(ids)) whatever the group's size. It returns the ids it added.
func (s *Store) addMembers(ctx context.Context, tx *sql.Tx, groupID string, ids []string) ([]string, error) {
	tenant := tenantOf(ctx)
	ids = dedupe(ids)
	var added []string
	for lo := 0; lo < len(ids); lo += idBatch {
		batch := ids[lo:min(lo+idBatch, len(ids))]
		lock := ""
		if s.dialect == Postgres {
			lock = " FOR KEY SHARE"
		}
		rows, err := tx.QueryContext(ctx, `SELECT id FROM scim_users WHERE tenant = `+s.placeholder(1)+` AND id IN `+
			s.in(2, len(batch))+lock, withIDs(batch, tenant)...)
		if err != nil {
			return nil, err
		}
		found := make(map[string]bool, len(batch))
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			found[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		for _, id := range batch {
			if !found[id] {
				return nil, &scim.UnknownMemberError{ID: id}
			}
		}
		var b strings.Builder
		b.WriteString(`INSERT INTO scim_members (tenant, group_id, user_id) VALUES `)
		args := make([]any, 0, 3*len(batch))
		for i, id := range batch {
			if i > 0 {
				b.WriteString(", ")
			}
			n := len(args)
			fmt.Fprintf(&b, "(%s, %s, %s)", s.placeholder(n+1), s.placeholder(n+2), s.placeholder(n+3))
			args = append(args, tenant, groupID, id)
		}
		b.WriteString(` ON CONFLICT DO NOTHING RETURNING user_id`)
		got, err := collectIDs(ctx, tx, b.String(), args...)
		if err != nil {
			return nil, err
		}
		added = append(added, got...)
	}
	return added, nil
}

// removeMembers deletes the memberships of ids in the group, in batches of idBatch, and returns the ids that
// were members.
func (s *Store) removeMembers(ctx context.Context, tx *sql.Tx, groupID string, ids []string) ([]string, error) {
	ids = dedupe(ids)
	var removed []string
	for lo := 0; lo < len(ids); lo += idBatch {
		batch := ids[lo:min(lo+idBatch, len(ids))]
		got, err := collectIDs(ctx, tx, `DELETE FROM scim_members WHERE tenant = `+s.placeholder(1)+` AND group_id = `+
			s.placeholder(2)+` AND user_id IN `+s.in(3, len(batch))+` RETURNING user_id`,
			withIDs(batch, tenantOf(ctx), groupID)...)
		if err != nil {
			return nil, err
		}
		removed = append(removed, got...)
	}
	return removed, nil
}

// GetGroup implements scim.GroupStore.
func (s *Store) GetGroup(ctx context.Context, id string, read scim.GroupRead) (_ *scim.Group, err error) {
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
	var data string
	var version int64
	err = s.db.QueryRowContext(ctx, s.q(`SELECT data, version FROM scim_groups WHERE tenant = ? AND id = ?`),
		tenantOf(ctx), id).Scan(&data, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, scim.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	g, err := decodeGroup(data, version)
	if err != nil {
		return nil, err
	}
	if maxMembers > 0 {
		err = s.loadMembers(ctx, []*scim.Group{g}, maxMembers)
	}
	return g, err
}

// memberDisplay is the SQL of a member's display: the user's displayName, else its userName.
func (s *Store) memberDisplay() string {
	if s.dialect == Postgres {
		return `COALESCE(u.data->>'displayName', u.user_name)`
	}
	return `COALESCE(json_extract(u.data, '$.displayName'), u.user_name)`
}

// loadMembers sets the Members of each group that has at most maxMembers, and MembersOmitted on the others:
// one query counts the page's memberships, one reads those of the groups within the bound. Members come in
// the order of MemberIDs (their user ids), with Type "User" and Display the user's displayName, else its
// userName, as memstore gives them.
func (s *Store) loadMembers(ctx context.Context, groups []*scim.Group, maxMembers int) error {
	if len(groups) == 0 {
		return nil
	}
	tenant := tenantOf(ctx)
	byID := make(map[string]*scim.Group, len(groups))
	ids := make([]string, 0, len(groups))
	for _, g := range groups {
		byID[g.ID] = g
		ids = append(ids, g.ID)
	}
	var small []string
	if len(groups) == 1 {
		// One group: the LIMIT reads at most maxMembers+1 rows, a huge group costs no more than a small one.
		var n int
		err := s.db.QueryRowContext(ctx, s.q(`SELECT count(*) FROM (SELECT 1 FROM scim_members WHERE tenant = ? AND group_id = ? LIMIT ?) AS m`),
			tenant, ids[0], maxMembers+1).Scan(&n)
		if err != nil {
			return err
		}
		if n <= maxMembers {
			small = ids
		}
	} else {
		rows, err := s.db.QueryContext(ctx, `SELECT group_id, count(*) FROM scim_members WHERE tenant = `+s.placeholder(1)+
			` AND group_id IN `+s.in(2, len(ids))+` GROUP BY group_id`, withIDs(ids, tenant)...)
		if err != nil {
			return err
		}
		counts := map[string]int{}
		for rows.Next() {
			var id string
			var n int
			if err := rows.Scan(&id, &n); err != nil {
				rows.Close()
				return err
			}
			counts[id] = n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range ids {
			if counts[id] <= maxMembers {
				small = append(small, id)
			}
		}
	}
	for _, g := range groups {
		g.Members, g.MembersOmitted = nil, true
	}
	for _, id := range small {
		byID[id].Members, byID[id].MembersOmitted = []scim.Member{}, false
	}
	if len(small) == 0 {
		return nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT m.group_id, m.user_id, `+s.memberDisplay()+` FROM scim_members m
		JOIN scim_users u ON u.tenant = m.tenant AND u.id = m.user_id
		WHERE m.tenant = `+s.placeholder(1)+` AND m.group_id IN `+s.in(2, len(small))+` ORDER BY m.group_id, m.user_id`,
		withIDs(small, tenant)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var gid string
		var m scim.Member
		var display sql.NullString
		if err := rows.Scan(&gid, &m.Value, &display); err != nil {
			return err
		}
		m.Display, m.Type = display.String, "User" // as memstore: members are users
		g := byID[gid]
		if len(g.Members) == maxMembers { // grew past the bound since the count: never send part of it
			g.Members, g.MembersOmitted = nil, true
			continue
		}
		if !g.MembersOmitted {
			g.Members = append(g.Members, m)
		}
	}
	return rows.Err()
}

// UpdateGroup implements scim.GroupStore. In one transaction it locks the group's row (checking its
// version), removes and adds the memberships of u (O(K) statements and rows for K ids, whatever the group's
// size; never the member list as a whole), and then, only when something changed, writes the group's row:
// its attributes when u.Group is set and differs, a new version, and meta.lastModified (u.Group's, or now
// when only members changed). The row counts of the DELETE … RETURNING and INSERT … ON CONFLICT DO NOTHING
// RETURNING statements tell whether the deltas changed anything: an update that changes nothing (members
// already there, non-members removed, the same displayName and externalId) writes nothing and keeps the
// version and lastModified, as memstore does.
func (s *Store) UpdateGroup(ctx context.Context, id string, u scim.GroupUpdate, version string) (_ *scim.Group, err error) {
	if _, err := scim.Tenant(ctx); err != nil { // every method acts on the context's tenant: tenantOf
		return nil, err
	}
	defer s.classify(ctx, &err)
	ctx, done, err := s.enter(ctx, true)
	if err != nil {
		return nil, err
	}
	defer done.leave()
	tenant := tenantOf(ctx)
	var out *scim.Group
	err = s.tx(ctx, func(tx *sql.Tx) error {
		lock := ""
		if s.dialect == Postgres {
			lock = " FOR UPDATE" // SQLite's write transaction holds the database already
		}
		var current int64
		var data string
		err := tx.QueryRowContext(ctx, s.q(`SELECT version, data FROM scim_groups WHERE tenant = ? AND id = ?`+lock),
			tenant, id).Scan(&current, &data)
		if errors.Is(err, sql.ErrNoRows) {
			return scim.ErrNotFound
		}
		if err != nil {
			return err
		}
		if version != "" && version != strconv.FormatInt(current, 10) {
			return scim.ErrVersionMismatch
		}
		old, err := decodeGroup(data, current)
		if err != nil {
			return err
		}
		removed, err := s.removeMembers(ctx, tx, id, u.Remove)
		if err != nil {
			return err
		}
		added, err := s.addMembers(ctx, tx, id, u.Add)
		if err != nil {
			return err
		}
		renamed := u.Group != nil && (u.Group.DisplayName != old.DisplayName || u.Group.ExternalID != old.ExternalID)
		if !renamed && len(added) == 0 && len(removed) == 0 {
			out = old // nothing changed: no write, the same version and lastModified
			return nil
		}
		g := *old
		typ := GroupMembers
		if renamed {
			g.DisplayName, g.ExternalID, typ = u.Group.DisplayName, u.Group.ExternalID, GroupUpdated
			if u.Group.Schemas != nil {
				g.Schemas = u.Group.Schemas
			}
		}
		switch {
		case renamed && !u.Group.Meta.LastModified.IsZero():
			g.Meta.LastModified = u.Group.Meta.LastModified
		default: // the handler passes no Group for members alone: the Store moves lastModified itself
			g.Meta.LastModified = time.Now().UTC().Truncate(time.Millisecond)
		}
		g.Meta.Version = ""
		r, err := groupToRow(&g)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q(`UPDATE scim_groups SET display_name = ?, display_name_fold = ?, external_id = ?,
			last_modified = ?, version = version + 1, data = ?, search = ? WHERE tenant = ? AND id = ?`),
			r.displayName, r.fold, r.externalID, r.lastModified, r.data, r.search, tenant, id)
		if err != nil {
			return mapErr(err)
		}
		if out, err = decodeGroup(r.data, current+1); err != nil {
			return err
		}
		return s.recordGroup(ctx, tx, typ, id, current+1, r.data, added, removed)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteGroup implements scim.GroupStore: the group's row and its memberships go in one transaction.
func (s *Store) DeleteGroup(ctx context.Context, id, version string) (err error) {
	if _, err := scim.Tenant(ctx); err != nil { // every method acts on the context's tenant: tenantOf
		return err
	}
	defer s.classify(ctx, &err)
	ctx, done, err := s.enter(ctx, true)
	if err != nil {
		return err
	}
	defer done.leave()
	tenant := tenantOf(ctx)
	query := `DELETE FROM scim_groups WHERE tenant = ? AND id = ?`
	args := []any{tenant, id}
	query, args = ifVersion(query, args, version)
	return s.tx(ctx, func(tx *sql.Tx) error {
		var data string
		var deleted int64
		err := tx.QueryRowContext(ctx, s.q(query+` RETURNING data, version`), args...).Scan(&data, &deleted)
		if errors.Is(err, sql.ErrNoRows) {
			return s.missOrStaleIn(ctx, tx, "scim_groups", id)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM scim_members WHERE tenant = ? AND group_id = ?`), tenant, id); err != nil {
			return err
		}
		return s.recordGroup(ctx, tx, GroupDeleted, id, deleted, data, nil, nil)
	})
}

// missOrStaleIn tells why a conditional write to table touched no row: the resource is gone, or its version
// moved on.
func (s *Store) missOrStaleIn(ctx context.Context, tx *sql.Tx, table, id string) error {
	var one int
	err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM `+table+` WHERE tenant = ? AND id = ?`),
		tenantOf(ctx), id).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return scim.ErrNotFound
	case err != nil:
		return err
	}
	return scim.ErrVersionMismatch
}
