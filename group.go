package scim

import (
	"context"
	"iter"
	"slices"

	"github.com/scimkit/scim/schema"
)

// Group is a SCIM Group resource (RFC 7643 §4.2). Its JSON form is the canonical SCIM representation.
type Group struct {
	// Schemas lists the schema URNs the resource uses. The handler derives it on output.
	Schemas     []string `json:"schemas,omitempty"`
	ID          string   `json:"id,omitempty"`
	ExternalID  string   `json:"externalId,omitempty"`
	DisplayName string   `json:"displayName,omitempty"`
	// Members are the group's members where the handler asked a GroupStore to load them (see GetGroup); nil
	// otherwise. They are never a partial list that a client could write back.
	Members []Member `json:"members,omitempty"`
	// MembersOmitted is set by a GroupStore that did not load Members because the group has more than the
	// MaxMembers it was given: the handler then leaves the attribute out rather than send part of it.
	MembersOmitted bool `json:"-"`
	Meta           Meta `json:"meta,omitzero"`
}

// Member is one member of a group: a user of the same tenant, named by its id (RFC 7643 §4.2).
type Member struct {
	// Value is the member user's id.
	Value string `json:"value"`
	// Display is a human-readable name for the member (the user's displayName or userName), set by the Store
	// when it has one.
	Display string `json:"display,omitempty"`
	// Ref is the member's URI; the handler sets it on output.
	Ref string `json:"$ref,omitempty"`
	// Type is "User"; groups as members are refused.
	Type string `json:"type,omitempty"`
}

// GroupUpdate is one atomic change to a group: its attributes other than members (when Group is not nil) and
// membership deltas. Adding K members or removing K members costs the Store O(K) writes however large the
// group is; it never rewrites the whole member list.
type GroupUpdate struct {
	// Group, when not nil, holds the group's new displayName, externalId and meta.lastModified (its Members are
	// ignored). The handler leaves it nil when only members change, so that concurrent membership PATCHes
	// never write back a displayName they read; the Store then moves meta.lastModified itself when the
	// deltas change anything, and keeps the version when they change nothing.
	Group *Group
	// Add lists the user ids to make members; ids already members are skipped.
	Add []string
	// Remove lists the user ids to remove; ids that are not members are skipped.
	Remove []string
}

// GroupPage is one page of a ListGroups answer.
type GroupPage struct {
	Groups []*Group
	// TotalResults is how many groups match the query in all pages.
	TotalResults int
	// NextCursor names the position after this page in a cursor answer; "" on the last page.
	NextCursor string
}

// GroupStore is the optional capability of keeping groups, found by type assertion on the Store, as
// database/sql/driver finds its optional interfaces. A host whose Store is not a GroupStore still answers
// GET /Groups with an empty list (Okta probes it) and advertises no Group resource type.
//
// A GroupStore enforces atomically, per tenant: displayName unique without case (filter.Fold, ErrConflict),
// versions (ErrVersionMismatch, as for users), members that are users of the tenant (UnknownMemberError for
// any other id, changing nothing), and integrity: deleting a user removes its memberships, deactivating it
// keeps them. Every method reads the tenant from the context, like Store's.
type GroupStore interface {
	// CreateGroup stores a new group with its initial Members (their Value only). The handler has set ID,
	// Meta.Created and Meta.LastModified; the Store sets Meta.Version and may assign its own ID, as in
	// Store.Create.
	CreateGroup(ctx context.Context, g *Group) (*Group, error)
	// GetGroup returns the group with the id, or ErrNotFound, with its members loaded as read says.
	GetGroup(ctx context.Context, id string, read GroupRead) (*Group, error)
	// UpdateGroup applies u to the group with the id if its version is still version (any when empty) and
	// returns the group with its new version and no members loaded.
	UpdateGroup(ctx context.Context, id string, u GroupUpdate, version string) (*Group, error)
	// DeleteGroup removes the group and its memberships if its version is still version (any when empty).
	DeleteGroup(ctx context.Context, id, version string) error
	// ListGroups returns one page of the groups matching q (its filter resolved against the Group schema,
	// members[value eq "…"] included), each with its members loaded as read says. A Store that cannot push
	// the query down to its database can answer with ApplyGroupQuery or a GroupCollector.
	ListGroups(ctx context.Context, q Query, read GroupRead) (*GroupPage, error)
	// MemberIDs returns the ids of the group's members in a stable order, as a sequence of (id, nil); a
	// failure ends it with ("", err): ErrNotFound when there is no such group. The handler ranges over it to
	// compute the difference a PUT of the whole member list makes, and may stop early, so that a Store can
	// stream the ids from its database rather than read them all.
	MemberIDs(ctx context.Context, id string) iter.Seq2[string, error]
	// GroupsOf returns, for each of the user ids, the groups it belongs to directly (value and display).
	GroupsOf(ctx context.Context, userIDs []string) (map[string][]GroupRef, error)
}

// GroupRead says what GetGroup and ListGroups load with the groups they return.
type GroupRead struct {
	// MaxMembers bounds the members loaded: 0 loads none; n > 0 loads them when the group has at most n,
	// and otherwise returns Members nil with MembersOmitted set, so that a huge member list is never read
	// whole by accident.
	MaxMembers int
}

// eachMember calls fn with each id of seq (a MemberIDs answer) until fn returns false, and returns the error
// seq ended with, if any.
func eachMember(seq iter.Seq2[string, error], fn func(userID string) bool) error {
	for id, err := range seq {
		if err != nil {
			return err
		}
		if !fn(id) {
			return nil
		}
	}
	return nil
}

// UnknownMemberError is a GroupStore's error for a member id that is not a user of the tenant (a group's id,
// a deleted user, a typo). The handler answers 400 invalidValue naming it.
type UnknownMemberError struct{ ID string }

// Error names the id.
func (e *UnknownMemberError) Error() string {
	return "scim: no user with id " + e.ID + " can be a member"
}

// GroupFilterer is the optional capability of a Store whose List (and ListCursor) answers the filters and
// sortBy that name the users' read-only groups attribute itself: groups.value eq "<id>" (the members of a
// group, paged as users), groups pr, not (groups pr), groups.display co "…", alone or with other terms,
// matching each user's memberships in its GroupStore and holding to Query.MaxScan. memstore and sqlstore
// are GroupFilterers.
//
// A Store that is not (or whose FiltersGroups reports false, as a wrapper of another Store may) never sees
// such a query: the handler resolves the groups terms through the GroupStore instead. It pages a group's
// members from MemberIDs, fetching only the page's users with Get; for any other query naming groups it
// examines the candidates one by one (the members of a group the filter requires, or the users List
// returns for the filter without its groups terms) with their groups from GroupsOf, and answers 400
// tooMany past Query.MaxScan of them.
type GroupFilterer interface {
	// FiltersGroups reports whether List and ListCursor answer queries that name groups.
	FiltersGroups() bool
}

// withGroupsAttr returns rt with the core User schema's groups attribute, in its place in the schema's
// order. A handler over a GroupStore serves groups whether or not the declaration lists it: the attribute is
// read-only and computed from the GroupStore, never kept by the Store, so a declaration (which says what
// the host's user table keeps) has no reason to name it, and the member paging of docs/groups.md
// (GET /Users?filter=groups.value eq "<id>") works with any declaration.
func withGroupsAttr(rt *schema.ResourceType) *schema.ResourceType {
	if p, ok := rt.Resolve("groups"); ok && p.Attr != nil && !p.Extension() {
		return rt
	}
	var attrs []*schema.Attribute
	for _, a := range userType.Core.Attributes {
		if a.Name == "groups" {
			attrs = append(attrs, a)
			continue
		}
		if i := slices.IndexFunc(rt.Core.Attributes, func(k *schema.Attribute) bool { return k.Name == a.Name }); i >= 0 {
			attrs = append(attrs, rt.Core.Attributes[i])
		}
	}
	for _, a := range rt.Core.Attributes { // none outside the core schema's table, but keep any
		if !slices.ContainsFunc(attrs, func(k *schema.Attribute) bool { return k.Name == a.Name }) {
			attrs = append(attrs, a)
		}
	}
	c, core := *rt, *rt.Core
	core.Attributes = attrs
	c.Core = &core
	return &c
}

// groupType is the Group resource type: built once, never modified.
var groupType = schema.Group()
