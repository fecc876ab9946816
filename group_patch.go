package scim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/internal/echo"
	"github.com/scimkit/scim/internal/normalize"
	"github.com/scimkit/scim/internal/patch"
	"github.com/scimkit/scim/schema"
)

// PATCH of a group (RFC 7644 §3.5.2) becomes one GroupUpdate: the group's new attributes and two member
// deltas, committed by one UpdateGroup call, so a request changes everything it asks or nothing. Members are
// never read, changed and written back as a list: concurrent PATCHes adding one member each (Entra ID's first
// sync of a large group) all land, and a remove of one member costs one membership write however large the
// group is. The whole member list is read (MemberIDs) only where the request's meaning needs it: a remove of
// all members, a replace of the list, or a member filter that is not a list of ids.
//
// Accepted, from real traffic (GROUPS.md): op names in any case; Entra's remove of "members" with a value
// list, which removes exactly the listed members (never all, as a letter-of-the-RFC reading would); its
// compliant members[value eq "…"]; several operations in one request; Okta's remove by filter plus add, and
// its path-less replace carrying the id and an unchanged displayName (a no-op that writes nothing); a
// replace of the whole member list; members without type, with "$ref": null or a display.

// groupOp is one operation, resolved and checked before anything is read.
type groupOp struct {
	op   string // add, replace or remove
	attr string // displayName, externalId or members
	// value is the attribute's coerced value (displayName, externalId; nil unassigns it).
	value any
	// ids are the members an operation on members lists; all marks a remove of every member.
	ids []string
	all bool
	// match selects the members a filtered remove (members[…]) removes, when it is not a list of ids.
	match filter.Expr
}

// parseGroupPatch resolves every operation against the Group type. Paths of extension schemas the group does
// not have (Entra's ADSCIM group schema) are ignored and reported, as POST ignores unknown attributes.
func parseGroupPatch(req patch.Request, maxOps int, ignored func(string)) ([]groupOp, error) {
	if req.Operations == nil {
		return nil, errorf(http.StatusBadRequest, InvalidSyntax, `a PatchOp needs "Operations"`)
	}
	if len(req.Operations) > maxOps {
		return nil, errorf(http.StatusBadRequest, InvalidValue, fmt.Sprintf("at most %d operations per request", maxOps))
	}
	var ops []groupOp
	for i, o := range req.Operations {
		op := strings.ToLower(o.Op)
		if op != "add" && op != "replace" && op != "remove" {
			return nil, errorf(http.StatusBadRequest, InvalidSyntax, fmt.Sprintf(`operation %d: op must be "add", "replace" or "remove"`, i+1))
		}
		var pp *filter.PatchPath
		if o.Path != "" {
			p, err := filter.ParsePath(groupType, o.Path)
			if errors.Is(err, filter.ErrUnknownAttribute) && foreignExtension(o.Path) {
				ignored(o.Path)
				continue
			}
			if err != nil {
				return nil, err
			}
			if p.Path.Attr != nil {
				pp = &p
			}
		}
		if pp == nil { // path-less (or the Group schema's URN): an object whose keys are paths
			if op == "remove" {
				return nil, errorf(http.StatusBadRequest, NoTarget, fmt.Sprintf("operation %d: remove needs a path", i+1))
			}
			m, ok := o.Value.(map[string]any)
			if !ok {
				return nil, errorf(http.StatusBadRequest, InvalidValue, fmt.Sprintf("operation %d: the value must be an object of attributes", i+1))
			}
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				p, err := filter.ParsePath(groupType, k)
				if err != nil || p.Path.Attr == nil || p.Filter != nil {
					if m[k] != nil {
						ignored(k)
					}
					continue
				}
				if p.Path.Attr.Mutability == schema.ReadOnly { // Okta's {"id": …}: not a change
					continue
				}
				g, err := groupOpAt(op, p, m[k], true)
				if err != nil {
					return nil, err
				}
				ops = append(ops, g)
			}
			continue
		}
		if pp.Path.Attr.Mutability == schema.ReadOnly {
			return nil, errorf(http.StatusBadRequest, Mutability, echo.Clip(pp.String())+" is read-only")
		}
		g, err := groupOpAt(op, *pp, o.Value, o.Value != nil)
		if err != nil {
			return nil, err
		}
		ops = append(ops, g)
	}
	return ops, nil
}

// foreignExtension reports whether path is qualified by a schema URN other than the Group schema's.
func foreignExtension(path string) bool {
	lower := strings.ToLower(path)
	return strings.HasPrefix(lower, "urn:") && !strings.HasPrefix(lower, strings.ToLower(schema.GroupURN)+":")
}

// groupOpAt resolves one operation at an attribute path. hasValue distinguishes a remove with no value
// (every member, RFC 7644 §3.5.2.2) from one with a value list (Entra: only those).
func groupOpAt(op string, pp filter.PatchPath, value any, hasValue bool) (groupOp, error) {
	a := pp.Path.Attr
	g := groupOp{op: op, attr: a.Name}
	if a.Name != "members" {
		if pp.Path.Sub != nil || pp.Filter != nil {
			return g, errorf(http.StatusBadRequest, InvalidPath, echo.Clip(pp.String())+" names no value")
		}
		if op != "remove" {
			v, err := normalize.Coerce(a, value)
			if err != nil {
				return g, err
			}
			g.value = v
		}
		return g, nil
	}
	if pp.Path.Sub != nil {
		return g, errorf(http.StatusBadRequest, Mutability, echo.Clip(pp.String())+": members are added and removed whole")
	}
	if pp.Filter != nil {
		ids, isList := idsOf(pp.Filter)
		switch {
		case isList:
			g.ids = ids
		case op == "remove":
			g.match = pp.Filter
		default:
			return g, errorf(http.StatusBadRequest, InvalidPath, echo.Clip(pp.String())+`: add members with members[value eq "id"] or a value list`)
		}
		if op == "replace" { // members[value eq "x"] replaced by itself: the member is there afterwards
			g.op = "add"
		}
		return g, nil
	}
	if op == "remove" && !hasValue {
		g.all = true
		return g, nil
	}
	v, err := normalize.Coerce(a, value)
	if err != nil {
		return g, err
	}
	if g.ids, err = memberIDsOf(v); err != nil {
		return g, err
	}
	return g, nil
}

// idsOf returns the ids a member filter lists when it is value eq "id", alone or joined by "or".
func idsOf(e filter.Expr) ([]string, bool) {
	switch x := e.(type) {
	case *filter.Compare:
		v, ok := x.Value.(string)
		if x.Op != filter.Eq || !ok || x.Path.Attr == nil || x.Path.Attr.Name != "value" {
			return nil, false
		}
		return []string{v}, true
	case *filter.Logical:
		if x.Op != filter.Or {
			return nil, false
		}
		l, ok1 := idsOf(x.Left)
		r, ok2 := idsOf(x.Right)
		return append(l, r...), ok1 && ok2
	}
	return nil, false
}

// groupChange is what a PATCH's operations amount to against the group as read.
type groupChange struct {
	next    Group // displayName and externalId afterwards
	add     idSet // ids to make members
	remove  idSet // ids to unmake
	all     bool  // every current member is removed first (before add)
	current []string
	loaded  bool // current holds MemberIDs: the change depends on the version read
	gs      GroupStore
	groupID string
	ctx     context.Context
	work    *workBudget // charged a unit a member read, and a member tested times its filter's comparisons
}

// idSet is a set of ids that remembers their order. Deleting is O(1): the id leaves the map and ids() skips
// it in the list (a PATCH may add and remove the same 100,000 ids; a slice deletion each was quadratic).
type idSet struct {
	in   map[string]struct{}
	list []string
}

func (s *idSet) put(id string) {
	if s.in == nil {
		s.in = map[string]struct{}{}
	}
	if _, ok := s.in[id]; !ok {
		s.in[id] = struct{}{}
		s.list = append(s.list, id)
	}
}

func (s *idSet) del(id string) { delete(s.in, id) }

func (s *idSet) has(id string) bool { _, ok := s.in[id]; return ok }

func (s *idSet) ids() []string {
	out := make([]string, 0, len(s.in))
	seen := make(map[string]struct{}, len(s.in)) // an id deleted and put again stands twice in the list
	for _, id := range s.list {
		if _, dup := seen[id]; s.has(id) && !dup {
			seen[id] = struct{}{}
			out = append(out, id)
		}
	}
	return out
}

// members loads the group's member ids, once, charging each to the work budget: reading stops at the limit.
func (c *groupChange) members() ([]string, error) {
	if !c.loaded {
		c.loaded = true
		var over error
		if err := eachMember(c.gs.MemberIDs(c.ctx, c.groupID), func(uid string) bool {
			if over = c.work.Charge(1); over != nil {
				return false
			}
			c.current = append(c.current, uid)
			return true
		}); err != nil {
			return nil, err
		}
		if over != nil {
			return nil, over
		}
	}
	return c.current, nil
}

// applyGroupPatch applies ops, in order, to the group as read, charging the members it reads and tests to work.
func applyGroupPatch(ctx context.Context, gs GroupStore, cur *Group, ops []groupOp, work *workBudget) (*groupChange, error) {
	c := &groupChange{next: Group{DisplayName: cur.DisplayName, ExternalID: cur.ExternalID}, gs: gs, groupID: cur.ID, ctx: ctx, work: work}
	addOne := func(id string) { c.remove.del(id); c.add.put(id) }
	removeOne := func(id string) { c.add.del(id); c.remove.put(id) }
	for _, op := range ops {
		if err := ctx.Err(); err != nil { // the request's deadline bounds a long list of operations
			return nil, err
		}
		switch op.attr {
		case "displayName", "externalId":
			s, _ := op.value.(string) // nil (remove, or a null value): unassigned
			if op.op == "add" && s == "" {
				continue // adding nothing changes nothing
			}
			if op.attr == "displayName" {
				if s == "" {
					return nil, errorf(http.StatusBadRequest, Mutability, "displayName is required: a PATCH cannot remove it")
				}
				c.next.DisplayName = s
			} else {
				c.next.ExternalID = s
			}
		case "members":
			switch {
			case op.all || op.op == "replace":
				c.all = true
				c.add, c.remove = idSet{}, idSet{}
				for _, id := range op.ids {
					addOne(id)
				}
			case op.match != nil:
				cur, err := c.members()
				if err != nil {
					return nil, err
				}
				tested := append(slices.Clip(cur), c.add.ids()...)
				if err := c.work.Charge(len(tested) * max(1, filter.CostOf(op.match).Terms)); err != nil {
					return nil, err
				}
				for _, id := range tested {
					if filter.Match(op.match, map[string]any{"value": id, "type": "User"}) {
						removeOne(id)
					}
				}
			case op.op == "remove":
				for _, id := range op.ids {
					removeOne(id)
				}
			default:
				for _, id := range op.ids {
					addOne(id)
				}
			}
		}
	}
	if c.all { // the list afterwards is exactly add: the difference with what is there
		cur, err := c.members()
		if err != nil {
			return nil, err
		}
		have := make(map[string]struct{}, len(cur))
		for _, id := range cur {
			have[id] = struct{}{}
			if !c.add.has(id) {
				c.remove.put(id)
			}
		}
		for _, id := range c.add.ids() {
			if _, ok := have[id]; ok {
				c.add.del(id)
			}
		}
	}
	return c, nil
}

func (h *handler) patchGroup(w http.ResponseWriter, r *request, gs GroupStore, id string) error {
	var req patch.Request
	if err := h.decodeBodyMax(w, r, &req, h.maxGroupBodyBytes); err != nil {
		return err
	}
	ops, err := parseGroupPatch(req, h.maxOps, r.ignore)
	if err != nil {
		return err
	}
	ifMatch := r.Header.Get("If-Match")
	var g *Group
	err = h.retryCAS(r, func() error {
		cur, err := gs.GetGroup(r.Context(), id, GroupRead{})
		if err != nil {
			return err
		}
		if ifMatch != "" && !etagMatches(ifMatch, cur.Meta.Version) {
			return ErrVersionMismatch
		}
		c, err := applyGroupPatch(r.Context(), gs, cur, ops, &r.work)
		if err != nil {
			return err
		}
		changed := changedGroupAttrs(cur, &c.next)
		u := GroupUpdate{Add: c.add.ids(), Remove: c.remove.ids()}
		if len(changed) > 0 {
			u.Group = &Group{DisplayName: c.next.DisplayName, ExternalID: c.next.ExternalID}
		}
		// Deltas commute: a PATCH of members alone applies to whatever version is there, so concurrent ones
		// all land without retries. What was computed from the version read (the other attributes carried
		// along, a difference with the member list) applies to that version only.
		version := ""
		if ifMatch != "" || c.loaded || len(changed) > 0 {
			version = cur.Meta.Version
		}
		g, err = h.writeGroupUpdate(r, gs, cur, u, changed, version)
		return err
	})
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if !q.Has("attributes") && !q.Has("excludedAttributes") {
		// Entra ID: "Update to the group PATCH request should yield an HTTP 204 No Content".
		w.Header().Set("ETag", etag(g.Meta.Version))
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	// RFC 7644 §3.5.2: the request named attributes, so it gets the group; members only when named.
	proj, err := h.projectionOf(groupType, r)
	if err != nil {
		return err
	}
	if n := h.listMembersLimit(proj); n > 0 {
		if g, err = gs.GetGroup(r.Context(), g.ID, GroupRead{MaxMembers: n}); err != nil {
			return err
		}
	}
	return h.writeGroup(w, r, http.StatusOK, g, proj)
}
