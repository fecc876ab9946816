package scim

import (
	"errors"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/scimkit/scim/internal/echo"
	"github.com/scimkit/scim/internal/normalize"
	"github.com/scimkit/scim/internal/project"
)

// Groups (RFC 7643 §4.2) are served when the Store is also a GroupStore. Their attributes go through the
// same schema machinery as users' (schema.Group); their members never do: a member list is read and written
// as deltas (GroupUpdate), so no request rewrites or reloads a whole large group by accident.

// groupStore returns the Store's GroupStore capability, found by type assertion.
func (h *handler) groupStore() (GroupStore, bool) {
	gs, ok := h.store.(GroupStore)
	return gs, ok
}

// errNoGroups answers writes to /Groups when the Store keeps no groups. 501 (as for /Bulk): the service
// provider lacks the function, whoever asks; 403 would tell an identity provider its credentials are at
// fault, and 404 that the group vanished, which makes Entra ID retry and Okta re-create it.
var errNoGroups = errorf(http.StatusNotImplemented, "", "this service provider does not keep groups")

// membersPath is the members attribute of the Group type, for projections.
var membersPath, _ = groupType.Resolve("members")

// routeGroups serves /Groups, /Groups/.search, /Groups/{id} and POST /.search.
func (h *handler) routeGroups(w http.ResponseWriter, r *request, segs []string, pattern string) error {
	gs, ok := h.groupStore()
	switch pattern {
	case "/.search":
		if r.Method == http.MethodPost {
			return h.searchAll(w, r)
		}
		return notAllowed(w, r, "POST")
	case "/Groups":
		switch r.Method {
		case http.MethodGet:
			if !ok { // Okta probes /Groups of every app: an empty list, never 404
				h.writeJSON(w, http.StatusOK, listOf([]any{}))
				return nil
			}
			req, err := listParams(r)
			if err != nil {
				return err
			}
			return h.answerGroups(w, r, gs, req)
		case http.MethodPost:
			if !ok {
				return errNoGroups
			}
			return h.createGroup(w, r, gs)
		}
		return notAllowed(w, r, "GET, POST")
	case "/Groups/.search":
		if r.Method != http.MethodPost {
			return notAllowed(w, r, "POST")
		}
		var req searchRequest
		if err := h.decodeBody(w, r, &req); err != nil {
			return err
		}
		if !ok {
			h.writeJSON(w, http.StatusOK, listOf([]any{}))
			return nil
		}
		return h.answerGroups(w, r, gs, req)
	}
	id := segs[1]
	switch r.Method {
	case http.MethodGet:
		if !ok {
			return ErrNotFound // no group exists here, as the empty list says
		}
		return h.getGroup(w, r, gs, id)
	case http.MethodPut:
		if !ok {
			return errNoGroups
		}
		return h.replaceGroup(w, r, gs, id)
	case http.MethodPatch:
		if !ok {
			return errNoGroups
		}
		return h.patchGroup(w, r, gs, id)
	case http.MethodDelete:
		if !ok {
			return errNoGroups
		}
		return h.deleteGroup(w, r, gs, id)
	}
	return notAllowed(w, r, "GET, PUT, PATCH, DELETE")
}

// groupErr maps a GroupStore's errors whose wording differs from users'.
func groupErr(err error) error {
	var um *UnknownMemberError
	switch {
	case errors.As(err, &um):
		return errorf(http.StatusBadRequest, InvalidValue, "no user with id "+echo.Quote(um.ID)+" can be a member")
	case errors.Is(err, ErrConflict):
		return errorf(http.StatusConflict, Uniqueness, "displayName is already taken")
	}
	return err
}

// decodeGroup decodes a POST or PUT body: the group's attributes (a canonical document, validated) and its
// member ids, in order, without repeats.
func (h *handler) decodeGroup(w http.ResponseWriter, r *request) (*Group, []string, error) {
	var raw map[string]any
	if err := h.decodeBodyMax(w, r, &raw, h.maxGroupBodyBytes); err != nil {
		return nil, nil, err
	}
	if raw == nil {
		return nil, nil, errorf(http.StatusBadRequest, InvalidSyntax, "the request body must be a JSON object")
	}
	doc, err := normalize.Resource(groupType, raw, r.ignore)
	if err != nil {
		return nil, nil, err
	}
	ids, err := memberIDsOf(doc["members"])
	if err != nil {
		return nil, nil, err
	}
	delete(doc, "members") // validated on their own: a long list is not compared pairwise
	if err := normalize.Validate(groupType, doc); err != nil {
		return nil, nil, err
	}
	g := &Group{}
	g.DisplayName, _ = doc["displayName"].(string)
	g.ExternalID, _ = doc["externalId"].(string)
	return g, ids, nil
}

// memberIDsOf returns the ids of a canonical members value (as normalize.Coerce makes it), in order, without
// repeats. A member is judged by its value, the id: the Store resolves it as a user of the tenant, and any other
// id (a group's included) is its UnknownMemberError, a 400 naming the id. The client's labels are not needed:
// "type" absent or "User" (in any case) and "$ref" absent, null or not naming a group are accepted as sent. A
// label saying the member is something else (a type other than "User", a $ref to .../Groups/{id}) is refused
// rather than reinterpreted: in a host whose users and groups may share ids (integer keys), reading
// {"value":"5","type":"Group"} as user 5 would add someone the client never named.
func memberIDsOf(v any) ([]string, error) {
	list, _ := v.([]any)
	ids := make([]string, 0, len(list))
	seen := make(map[string]struct{}, len(list))
	for _, e := range list {
		m, _ := e.(map[string]any)
		id, _ := m["value"].(string)
		if id == "" {
			return nil, errorf(http.StatusBadRequest, InvalidValue, "every member needs a value: the member's id")
		}
		if t, _ := m["type"].(string); t != "" && !strings.EqualFold(t, "User") {
			return nil, errorf(http.StatusBadRequest, InvalidValue, "member "+echo.Quote(id)+" has type "+echo.Quote(t)+
				`: members are users (type "User" or none); groups cannot be members`)
		}
		if ref, _ := m["$ref"].(string); refNamesGroup(ref) {
			return nil, errorf(http.StatusBadRequest, InvalidValue, "member "+echo.Quote(id)+" has a $ref to a group: groups cannot be members")
		}
		if _, dup := seen[id]; !dup {
			seen[id] = struct{}{}
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// refNamesGroup reports whether a member's $ref is the URI of a group (…/Groups/{id}, absolute or relative).
// Any other $ref is left unread: the value names the member, and the client's base URL may not be ours.
func refNamesGroup(ref string) bool {
	p := ref
	if u, err := url.Parse(ref); err == nil {
		p = u.Path
	}
	p = strings.TrimSuffix(p, "/")
	return p != "" && strings.EqualFold(path.Base(path.Dir(p)), "Groups")
}

func membersOf(ids []string) []Member {
	out := make([]Member, len(ids))
	for i, id := range ids {
		out[i] = Member{Value: id}
	}
	return out
}

func (h *handler) createGroup(w http.ResponseWriter, r *request, gs GroupStore) error {
	proj, err := h.projectionOf(groupType, r)
	if err != nil {
		return err
	}
	g, ids, err := h.decodeGroup(w, r)
	if err != nil {
		return err
	}
	t := h.now()
	g.ID = newID()
	g.Members = membersOf(ids)
	g.Meta = Meta{ResourceType: "Group", Created: t, LastModified: t}
	var created *Group
	err = h.lockedWrite(r, groupKey(g.ID), func() (err error) {
		if created, err = gs.CreateGroup(r.Context(), g); err == nil && created != nil && created.ID != "" {
			h.emitGroup(r, GroupCreated, created, nil, ids, nil)
		}
		return err
	})
	if err != nil {
		return groupErr(err)
	}
	if created == nil || created.ID == "" {
		return errors.New("scim: the GroupStore's CreateGroup returned a group without an id")
	}
	if c := *created; c.Members == nil && !c.MembersOmitted && len(ids) <= h.maxMembers {
		c.Members = membersOf(ids) // what was stored: the answer needs no second read
		created = &c
	}
	return h.writeGroup(w, r, http.StatusCreated, created, proj)
}

// membersLimit is the maxMembers to load for a single group under proj.
func (h *handler) membersLimit(proj project.Projection) int {
	if proj.Includes(membersPath) {
		return h.maxMembers
	}
	return 0
}

func (h *handler) getGroup(w http.ResponseWriter, r *request, gs GroupStore, id string) error {
	proj, err := h.projectionOf(groupType, r)
	if err != nil {
		return err
	}
	g, err := gs.GetGroup(r.Context(), id, GroupRead{MaxMembers: h.membersLimit(proj)})
	if err != nil {
		return err
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, g.Meta.Version) {
		w.Header().Set("ETag", etag(g.Meta.Version))
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	return h.writeGroup(w, r, http.StatusOK, g, proj)
}

// replaceGroup is PUT: the body's attributes, and the difference between its member list and the group's
// (MemberIDs) as deltas, so that a PUT of 100,000 members with one changed writes one membership.
func (h *handler) replaceGroup(w http.ResponseWriter, r *request, gs GroupStore, id string) error {
	proj, err := h.projectionOf(groupType, r)
	if err != nil {
		return err
	}
	body, ids, err := h.decodeGroup(w, r)
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
		want := make(map[string]struct{}, len(ids))
		for _, id := range ids {
			want[id] = struct{}{}
		}
		have := map[string]struct{}{}
		var remove []string
		var over error // the work budget ran out: a unit a member read
		if err := eachMember(gs.MemberIDs(r.Context(), id), func(uid string) bool {
			if over = r.work.Charge(1); over != nil {
				return false
			}
			have[uid] = struct{}{}
			if _, keep := want[uid]; !keep {
				remove = append(remove, uid)
			}
			return true
		}); err != nil {
			return err
		}
		if over != nil {
			return over
		}
		var add []string
		for _, uid := range ids {
			if _, ok := have[uid]; !ok {
				add = append(add, uid)
			}
		}
		u := GroupUpdate{Add: add, Remove: remove}
		changed := changedGroupAttrs(cur, body)
		if len(changed) > 0 {
			u.Group = &Group{DisplayName: body.DisplayName, ExternalID: body.ExternalID}
		}
		// The diff was computed from this version: only that version may take it.
		g, err = h.writeGroupUpdate(r, gs, cur, u, changed, cur.Meta.Version)
		return err
	})
	if err != nil {
		return err
	}
	return h.answerGroupWrite(w, r, gs, g, proj, http.StatusOK)
}

// changedGroupAttrs names the attributes (other than members) whose values differ between cur and next.
func changedGroupAttrs(cur, next *Group) []string {
	var out []string
	if cur.DisplayName != next.DisplayName {
		out = append(out, "displayName")
	}
	if cur.ExternalID != next.ExternalID {
		out = append(out, "externalId")
	}
	return out
}

// writeGroupUpdate commits u (when it changes anything) under the group's lock and queues its events. With
// events on, the deltas are first cut to real changes (GroupsOf of the K ids named: O(K), never the group's
// size), so that the events name only members that came or went, and a write that changes nothing is not
// made at all. It returns the group after the write, or cur when nothing was written.
func (h *handler) writeGroupUpdate(r *request, gs GroupStore, cur *Group, u GroupUpdate, changed []string, version string) (*Group, error) {
	var out *Group
	err := h.lockedWrite(r, groupKey(cur.ID), func() error {
		if h.queue != nil && len(u.Add)+len(u.Remove) > 0 {
			ids := append(slices.Clip(u.Add), u.Remove...)
			of, err := gs.GroupsOf(r.Context(), ids)
			if err != nil {
				return err
			}
			member := func(uid string) bool {
				return slices.ContainsFunc(of[uid], func(g GroupRef) bool { return g.Value == cur.ID })
			}
			// An id that is no user is kept in Add: the Store refuses it (UnknownMemberError).
			u.Add = slices.DeleteFunc(slices.Clone(u.Add), member)
			u.Remove = slices.DeleteFunc(slices.Clone(u.Remove), func(uid string) bool { return !member(uid) })
		}
		if u.Group == nil && len(u.Add) == 0 && len(u.Remove) == 0 {
			out = cur
			return nil
		}
		if u.Group != nil {
			u.Group.ID, u.Group.Meta = cur.ID, cur.Meta
			u.Group.Meta.LastModified = h.now()
		}
		g, err := gs.UpdateGroup(r.Context(), cur.ID, u, version)
		if err != nil {
			return err
		}
		out = g
		h.emitGroup(r, GroupUpdated, g, changed, u.Add, u.Remove)
		return nil
	})
	return out, groupErr(err)
}

func (h *handler) deleteGroup(w http.ResponseWriter, r *request, gs GroupStore, id string) error {
	ifMatch := r.Header.Get("If-Match")
	if ifMatch == "" && h.events == nil {
		if err := gs.DeleteGroup(r.Context(), id, ""); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	err := h.retryCAS(r, func() error {
		cur, err := gs.GetGroup(r.Context(), id, GroupRead{})
		if err != nil {
			return err
		}
		if ifMatch != "" && !etagMatches(ifMatch, cur.Meta.Version) {
			return ErrVersionMismatch
		}
		return h.lockedWrite(r, groupKey(cur.ID), func() error {
			err := gs.DeleteGroup(r.Context(), id, cur.Meta.Version)
			if err == nil {
				h.emitGroup(r, GroupDeleted, cur, nil, nil, nil)
			}
			return err
		})
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
