package sqlstore

import (
	"context"
	"strconv"
	"strings"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
)

// The scan budget of the statements List sends (Query.MaxScan): the database, like a Store's Go loop, must
// not examine more than MaxScan users one by one for a request. A statement's rows are either found through
// an index (the filter is driven: see driven) or examined one by one; before any statement runs, a query is
// refused with scim.ErrTooMany when what it would examine is more than the budget:
//
//   - a filter that is not driven is tested on every user of the tenant (the page walks the tenant in seq
//     order, its total counts the matches): the tenant's users, one row of scim_user_counts away;
//   - a sortBy orders every candidate (no index serves the order the compiler writes: COLLATE "C", NULLS
//     LAST): the tenant's users, or the driven filter's matches, counted up to MaxScan+1 through its index;
//   - a startIndex past MaxScan of a filtered or sorted list skips that many examined rows (OFFSET), unless
//     a bookmark continues the walk there (walk.go). The unfiltered list in creation order skips entries of
//     the (tenant, seq) index alone, and is not counted.
//
// Lookups by id, userName and externalId and a group's members (groups.value eq "…") are driven: they
// cost their matches, not the tenant. This is memstore's rule (memTenant.lookup), applied to SQL.

// indexedUser names the attributes of a user whose eq an index of scim_users answers (its columns
// id, user_name_fold, external_id), and linkedUser those whose eq scim_members' indexes answer.
var (
	indexedUser = map[string]bool{"id": true, "userName": true, "externalId": true}
	linkedUser  = map[string]bool{"groups": true}
	// indexedGroup is indexedUser of scim_groups (id, display_name_fold, external_id).
	indexedGroup = map[string]bool{"id": true, "displayName": true, "externalId": true}
)

// driven reports whether the users matching e are found through an index rather than by testing every user
// of the tenant: e is an eq of a string on an indexed or linked attribute (groups.value eq "g", groups eq
// "g", groups[value eq "g"]), an "and" with a driven side, or an "or" of driven sides. "not", "ne", "pr" and
// null never are: their matches are what an index does not hold. linkInOr says whether the database drives
// a link subquery inside an "or" too: SQLite does (MULTI-INDEX OR); PostgreSQL tests each row against a
// hashed subquery instead (it cannot OR two semi-joins), so there only the columns' indexes drive an "or".
func driven(e filter.Expr, indexed, linked map[string]bool, linkInOr bool) bool {
	switch e := e.(type) {
	case *filter.Logical:
		if e.Op == filter.And {
			return driven(e.Left, indexed, linked, linkInOr) || driven(e.Right, indexed, linked, linkInOr)
		}
		if !linkInOr {
			linked = nil
		}
		return driven(e.Left, indexed, linked, linkInOr) && driven(e.Right, indexed, linked, linkInOr)
	case *filter.Compare:
		if _, ok := e.Value.(string); !ok || e.Op != filter.Eq || e.Path.Attr == nil || e.Path.Extension() {
			return false
		}
		name := e.Path.Attr.Name
		if e.Path.Sub == nil {
			return indexed[name] || linked[name]
		}
		return linked[name] && strings.EqualFold(e.Path.Sub.Name, "value")
	case *filter.ValuePath:
		if e.Path.Attr == nil || e.Path.Extension() || !linked[e.Path.Attr.Name] {
			return false
		}
		return drivenValue(e.Filter, linkInOr)
	}
	return false
}

// drivenValue reports whether the value filter of a linked attribute is value eq "…", or (linkInOr) an "or"
// of them.
func drivenValue(e filter.Expr, linkInOr bool) bool {
	switch e := e.(type) {
	case *filter.Logical:
		return linkInOr && e.Op == filter.Or && drivenValue(e.Left, linkInOr) && drivenValue(e.Right, linkInOr)
	case *filter.Compare:
		_, ok := e.Value.(string)
		return ok && e.Op == filter.Eq && e.Path.Attr != nil && e.Path.Sub == nil && strings.EqualFold(e.Path.Attr.Name, "value")
	}
	return false
}

// checkScan refuses with scim.ErrTooMany a List whose statements would examine more than q.MaxScan users
// (see the rules above). where and args select the query's users (Store.where); bookmarked says a bookmark
// serves q's startIndex (no OFFSET).
func (s *Store) checkScan(ctx context.Context, q scim.Query, where string, args []any, bookmarked bool) error {
	if q.MaxScan <= 0 {
		return nil
	}
	filtered := q.Filter != nil
	sorted := q.SortBy.Attr != nil
	if offset := max(q.StartIndex, 1) - 1; offset > q.MaxScan && (filtered || sorted) && !bookmarked && q.Count > 0 {
		return scim.ErrTooMany
	}
	isDriven := filtered && driven(q.Filter, indexedUser, linkedUser, s.dialect == SQLite)
	switch {
	case filtered && !isDriven, sorted && !filtered:
		n, err := s.tenantUsers(ctx)
		if err != nil {
			return err
		}
		if n > q.MaxScan {
			return scim.ErrTooMany
		}
	case sorted: // driven: the sort orders the filter's matches
		var n int
		err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM scim_users WHERE `+where+
			` LIMIT `+strconv.Itoa(q.MaxScan+1)+`) capped`, args...).Scan(&n)
		if err != nil {
			return err
		}
		if n > q.MaxScan {
			return scim.ErrTooMany
		}
	}
	return nil
}

// tenantUsers is the number of users of the context's tenant, from its counter (walk.go).
func (s *Store) tenantUsers(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, s.q(`SELECT COALESCE((SELECT n FROM scim_user_counts WHERE tenant = ?), 0)`),
		tenantOf(ctx)).Scan(&n)
	return n, err
}
