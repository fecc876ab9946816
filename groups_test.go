package scim_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/memstore"
)

// Groups through HTTP, replaying what Entra ID and Okta send (GROUPS.md), verbatim where it is quoted.

const groupURN = "urn:ietf:params:scim:schemas:core:2.0:Group"

// usersOnly is a Store that keeps no groups: only the Store methods of a memstore.
type usersOnly struct{ m *memstore.Store }

func (u usersOnly) Create(ctx context.Context, x *scim.User) (*scim.User, error) {
	return u.m.Create(ctx, x)
}
func (u usersOnly) Get(ctx context.Context, id string) (*scim.User, error) { return u.m.Get(ctx, id) }
func (u usersOnly) Replace(ctx context.Context, x *scim.User, v string) (*scim.User, error) {
	return u.m.Replace(ctx, x, v)
}
func (u usersOnly) Delete(ctx context.Context, id, v string) error { return u.m.Delete(ctx, id, v) }
func (u usersOnly) List(ctx context.Context, q scim.Query) (*scim.Page, error) {
	return u.m.List(ctx, q)
}

// countingStore is a Store and GroupStore of the matrix (memstore, sqlstore) that counts GroupsOf calls
// and records UpdateGroup's deltas.
type countingStore struct {
	scim.Store
	scim.GroupStore
	groupsOf atomic.Int64
	mu       sync.Mutex
	updates  []scim.GroupUpdate
}

func (c *countingStore) GroupsOf(ctx context.Context, ids []string) (map[string][]scim.GroupRef, error) {
	c.groupsOf.Add(1)
	return c.GroupStore.GroupsOf(ctx, ids)
}

// FiltersGroups forwards the wrapped Store's answer (scim.GroupFilterer), as a host's wrapper would.
func (c *countingStore) FiltersGroups() bool {
	f, ok := c.Store.(scim.GroupFilterer)
	return ok && f.FiltersGroups()
}

func (c *countingStore) UpdateGroup(ctx context.Context, id string, u scim.GroupUpdate, version string) (*scim.Group, error) {
	c.mu.Lock()
	c.updates = append(c.updates, u)
	c.mu.Unlock()
	return c.GroupStore.UpdateGroup(ctx, id, u, version)
}

// groupKind is one store of the matrix the group tests run on.
type groupKind struct {
	name string // memory, sqlite or postgres
	open func(t *testing.T) scim.Store
}

// groupStores runs test once per store of the conformance matrix (storeKinds), as parallel subtests named after it: the
// two GroupStores must answer every replayed request alike.
func groupStores(t *testing.T, test func(t *testing.T, k groupKind)) {
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			test(t, groupKind{name: k.name, open: k.open})
		})
	}
}

// serve mounts a handler over a fresh store of the kind (counted) at /scim/v2, as newTestServer does.
func (k groupKind) serve(t *testing.T, opts ...scim.Option) (*testServer, *countingStore) {
	t.Helper()
	s, store := serveStore(t, k.open(t), opts...)
	return s, store
}

// serveStore mounts a handler over store (counted) at /scim/v2, as serveStoreAt does.
func serveStore(t *testing.T, store scim.Store, opts ...scim.Option) (*testServer, *countingStore) {
	t.Helper()
	gs, ok := store.(scim.GroupStore)
	require.True(t, ok, "%T is no GroupStore", store)
	c := &countingStore{Store: store, GroupStore: gs}
	return serveStoreAt(t, c, opts...), c
}

// createGroup POSTs a group and returns its id.
func (s *testServer) createGroup(body string) string {
	s.t.Helper()
	r := s.do("POST", "/Groups", body)
	require.Equal(s.t, http.StatusCreated, r.Status, "%s", r.Raw)
	return r.Body["id"].(string)
}

// memberIDs returns the values of GET /Groups/{id}'s members, sorted.
func (s *testServer) memberIDs(id string) []string {
	s.t.Helper()
	r := s.do("GET", "/Groups/"+id, "")
	require.Equal(s.t, 200, r.Status, "%s", r.Raw)
	out := []string{}
	for _, m := range asList(r.Body["members"]) {
		out = append(out, m["value"].(string))
	}
	slices.Sort(out)
	return out
}

// enc writes a query's spaces and quotes as Entra does: + and %22.
func enc(path string) string {
	return strings.NewReplacer(" ", "+", `"`, "%22").Replace(path)
}

func asList(v any) []map[string]any {
	list, _ := v.([]any)
	out := make([]map[string]any, len(list))
	for i, e := range list {
		out[i] = e.(map[string]any)
	}
	return out
}

func sorted(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	if out == nil {
		out = []string{}
	}
	return out
}

func memberOps(op string, ids ...string) string {
	var ms []string
	for _, id := range ids {
		ms = append(ms, `{"$ref":null,"value":"`+id+`"}`)
	}
	return `{"op":"` + op + `","path":"members","value":[` + strings.Join(ms, ",") + `]}`
}

func TestGroupsWithoutGroupStore(t *testing.T) {
	s := serveHandler(t, scim.MustNew(usersOnly{memstore.New()}, scim.WithTokens(testToken)))
	empty := `{"schemas":["` + listURN + `"],"totalResults":0,"itemsPerPage":0,"startIndex":1,"Resources":[]}`
	for _, path := range []string{"/Groups", "/Groups?startIndex=1&count=100", "/Groups?excludedAttributes=members&filter=displayName+eq+%22x%22"} {
		r := s.do("GET", path, "")
		require.Equal(t, 200, r.Status, path)
		require.JSONEq(t, empty, string(r.Raw), path)
	}
	r := s.do("POST", "/Groups/.search", `{"filter":"displayName eq \"x\""}`)
	require.JSONEq(t, empty, string(r.Raw))
	requireError(t, s.do("GET", "/Groups/x", ""), 404, "")
	for _, m := range [][2]string{{"POST", "/Groups"}, {"PUT", "/Groups/x"}, {"PATCH", "/Groups/x"}, {"DELETE", "/Groups/x"}} {
		r := s.do(m[0], m[1], `{"displayName":"x"}`)
		requireError(t, r, 501, "")
		require.Equal(t, "this service provider does not keep groups", r.Body["detail"])
	}
	// POST /.search answers users alone.
	s.do("POST", "/Users", `{"userName":"solo@example.com"}`)
	r = s.do("POST", "/.search", `{"filter":"displayName pr or userName pr"}`)
	require.Equal(t, 1.0, r.Body["totalResults"], "%s", r.Raw)
}

func TestGroupsEntra(t *testing.T) {
	groupStores(t, func(t *testing.T, k groupKind) {
		s, _ := k.serve(t)
		u1, u2, u3 := s.createUser("u1@contoso.com"), s.createUser("u2@contoso.com"), s.createUser("u3@contoso.com")

		// Test Connection and the lookup before a create.
		r := s.do("GET", enc(`/Groups?excludedAttributes=members&filter=displayName eq "displayName"`), "")
		require.Equal(t, 200, r.Status, "%s", r.Raw)
		require.Equal(t, 0.0, r.Body["totalResults"])

		r = s.do("POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group","http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
 "externalId":"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159","displayName":"displayName","meta":{"resourceType":"Group"}}`)
		require.Equal(t, 201, r.Status, "%s", r.Raw)
		id := r.Body["id"].(string)
		require.Equal(t, []any{groupURN}, r.Body["schemas"])
		require.Equal(t, "displayName", r.Body["displayName"])
		require.Equal(t, "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", r.Body["externalId"])
		meta := r.Body["meta"].(map[string]any)
		require.Equal(t, "Group", meta["resourceType"])
		require.Equal(t, s.URL+"/Groups/"+id, meta["location"])
		require.Equal(t, s.URL+"/Groups/"+id, r.Header.Get("Location"))
		require.NotEmpty(t, r.Header.Get("ETag"))
		requireNoNulls(t, "", r.Body)

		r = s.do("GET", enc(`/Groups?excludedAttributes=members&filter=displayName eq "DISPLAYNAME"`), "")
		require.Equal(t, 1.0, r.Body["totalResults"], "displayName compares without case")
		require.NotContains(t, resources(t, r.Body)[0], "members")
		r = s.do("GET", enc(`/Groups?filter=externalId eq "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"`), "")
		require.Equal(t, 1.0, r.Body["totalResults"])

		// Rename: 204.
		r = s.do("PATCH", "/Groups/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
 "Operations":[{"op":"Replace","path":"displayName","value":"newName"}]}`)
		require.Equal(t, 204, r.Status, "%s", r.Raw)
		require.Empty(t, r.Raw)
		require.Equal(t, "newName", s.do("GET", "/Groups/"+id+"?excludedAttributes=members", "").Body["displayName"])

		// Add members with "$ref": null, then remove one with a value list: exactly that one goes.
		for _, u := range []string{u1, u2, u3} {
			r = s.do("PATCH", "/Groups/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
 "Operations":[{"op":"Add","path":"members","value":[{"$ref":null,"value":"`+u+`"}]}]}`)
			require.Equal(t, 204, r.Status, "%s", r.Raw)
		}
		require.Equal(t, sorted(u1, u2, u3), s.memberIDs(id))
		r = s.do("PATCH", "/Groups/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
 "Operations":[{"op":"Remove","path":"members","value":[{"$ref":null,"value":"`+u1+`"}]}]}`)
		require.Equal(t, 204, r.Status, "%s", r.Raw)
		require.Equal(t, sorted(u2, u3), s.memberIDs(id), "Entra's remove with a value list removes only those listed")

		// GET with excludedAttributes=members: no members key at all.
		r = s.do("GET", "/Groups/"+id+"?excludedAttributes=members", "")
		require.Equal(t, 200, r.Status)
		require.NotContains(t, r.Body, "members")

		// Members in full: value, display, $ref, type; in the order of their ids on the shipped stores (the
		// slice store gives its users' creation order: GroupStore promises a stable order, no more).
		r = s.do("GET", "/Groups/"+id, "")
		ms := asList(r.Body["members"])
		require.Len(t, ms, 2)
		values := []string{ms[0]["value"].(string), ms[1]["value"].(string)}
		if k.name == "slice" {
			values = sorted(values...)
		}
		require.Equal(t, sorted(u2, u3), values)
		i := slices.IndexFunc(ms, func(m map[string]any) bool { return m["value"] == u2 })
		require.Equal(t, map[string]any{"value": u2, "display": "u2@contoso.com", "$ref": s.URL + "/Users/" + u2, "type": "User"}, ms[i])

		// aadOptscim062020: lower-case ops, members[value eq "…"].
		r = s.do("PATCH", "/Groups/"+id, patchOp(`{"op":"remove","path":"members[value eq \"`+u2+`\"]"}`))
		require.Equal(t, 204, r.Status, "%s", r.Raw)
		require.Equal(t, []string{u3}, s.memberIDs(id))
		r = s.do("PATCH", "/Groups/"+id, patchOp(`{"op":"add","path":"members","value":[{"value":"`+u1+`"}]}`))
		require.Equal(t, 204, r.Status, "%s", r.Raw)
		require.Equal(t, sorted(u1, u3), s.memberIDs(id))

		// Several operations in one request.
		r = s.do("PATCH", "/Groups/"+id, patchOp(`{"op":"Replace","path":"displayName","value":"third"}`,
			memberOps("Add", u2), memberOps("Remove", u3)))
		require.Equal(t, 204, r.Status, "%s", r.Raw)
		require.Equal(t, sorted(u1, u2), s.memberIDs(id))
		require.Equal(t, "third", s.do("GET", "/Groups/"+id, "").Body["displayName"])

		// The user sees its groups.
		gs := asList(s.get(u1)["groups"])
		require.Equal(t, []map[string]any{{"value": id, "display": "third", "$ref": s.URL + "/Groups/" + id, "type": "direct"}}, gs)

		r = s.do("DELETE", "/Groups/"+id, "")
		require.Equal(t, 204, r.Status)
		requireError(t, s.do("GET", "/Groups/"+id, ""), 404, "")
		require.NotContains(t, s.get(u1), "groups", "a deleted group's memberships end with it")
	})
}

func TestGroupsOkta(t *testing.T) {
	groupStores(t, func(t *testing.T, k groupKind) {
		s, store := k.serve(t)
		// Okta's probes after saving the configuration.
		require.Equal(t, 200, s.do("GET", "/Users?startIndex=1&count=2", "").Status)
		r := s.do("GET", "/Groups?startIndex=1&count=100", "")
		require.Equal(t, 200, r.Status)
		require.Equal(t, []map[string]any{}, resources(t, r.Body))

		// POST /Users may carry "groups": [] (read-only: ignored).
		u1 := s.create(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"test.user@okta.local","groups":[]}`)["id"].(string)
		u2 := s.create(`{"userName":"other@okta.local","groups":[{"value":"forged"}]}`)["id"].(string)
		require.NotContains(t, s.get(u2), "groups")

		r = s.do("POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Test SCIMv2","members":[]}`)
		require.Equal(t, 201, r.Status, "%s", r.Raw)
		id := r.Body["id"].(string)
		require.NotContains(t, r.Body, "members")
		r = s.do("GET", "/Groups?startIndex=1&count=100", "")
		require.Equal(t, 1.0, r.Body["totalResults"])
		require.Equal(t, 200, s.do("GET", "/Groups/"+id, "").Status)

		// OIN membership change: remove by filter, add with a display; 204.
		r = s.do("PATCH", "/Groups/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
    {"op":"remove","path":"members[value eq \"89bb1940-b905-4575-9e7f-6f887cfb368e\"]"},
    {"op":"add","path":"members","value":[{"value":"`+u1+`","display":"test.user@okta.local"}]}]}`)
		require.Equal(t, 204, r.Status, "%s", r.Raw)
		require.Equal(t, []string{u1}, s.memberIDs(id))

		// The rename that comes with every change, to the same name: a no-op that writes nothing.
		before := s.do("GET", "/Groups/"+id, "")
		n := len(store.updates)
		r = s.do("PATCH", "/Groups/"+id, patchOp(`{"op":"replace","value":{"id":"`+id+`","displayName":"Test SCIMv2"}}`))
		require.Equal(t, 204, r.Status, "%s", r.Raw)
		require.Equal(t, n, len(store.updates), "no write")
		after := s.do("GET", "/Groups/"+id, "")
		require.Equal(t, before.Header.Get("ETag"), after.Header.Get("ETag"))
		require.Equal(t, before.Body["meta"], after.Body["meta"])

		// A real rename through the same shape.
		r = s.do("PATCH", "/Groups/"+id, patchOp(`{"op":"replace","value":{"id":"`+id+`","displayName":"Renamed"}}`))
		require.Equal(t, 204, r.Status, "%s", r.Raw)
		require.Equal(t, "Renamed", s.do("GET", "/Groups/"+id, "").Body["displayName"])

		// Full push: replace the member list.
		r = s.do("PATCH", "/Groups/"+id, patchOp(`{"op":"replace","path":"members","value":[{"value":"`+u2+`"}]}`))
		require.Equal(t, 204, r.Status, "%s", r.Raw)
		require.Equal(t, []string{u2}, s.memberIDs(id))
		last := store.updates[len(store.updates)-1]
		require.Equal(t, []string{u2}, last.Add)
		require.Equal(t, []string{u1}, last.Remove)

		// App Integration Wizard: PUT with the full member list, answered 200 with the group.
		r = s.do("PUT", "/Groups/"+id, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"`+id+`","displayName":"Renamed",
 "members":[{"value":"`+u1+`","display":"test.user@okta.local"},{"value":"`+u2+`"}]}`)
		require.Equal(t, 200, r.Status, "%s", r.Raw)
		require.Len(t, asList(r.Body["members"]), 2)
		last = store.updates[len(store.updates)-1]
		require.Equal(t, []string{u1}, last.Add, "only the difference")
		require.Empty(t, last.Remove)
		require.Nil(t, last.Group, "the name did not change")

		r = s.do("DELETE", "/Groups/"+id, "")
		require.Equal(t, 204, r.Status)
	})
}

func TestGroupPatchRules(t *testing.T) {
	groupStores(t, func(t *testing.T, k groupKind) {
		s, store := k.serve(t)
		u1, u2, u3 := s.createUser("a@x"), s.createUser("b@x"), s.createUser("c@x")
		id := s.createGroup(`{"displayName":"G","members":[{"value":"` + u1 + `"},{"value":"` + u2 + `"}]}`)
		other := s.createGroup(`{"displayName":"Other"}`)
		etagOf := func() string { return s.do("GET", "/Groups/"+id, "").Header.Get("ETag") }

		// Adding a member twice, removing a non-member: success, nothing changes.
		v := etagOf()
		require.Equal(t, 204, s.do("PATCH", "/Groups/"+id, patchOp(memberOps("add", u1))).Status)
		require.Equal(t, 204, s.do("PATCH", "/Groups/"+id, patchOp(memberOps("remove", u3))).Status)
		require.Equal(t, 204, s.do("PATCH", "/Groups/"+id, patchOp(`{"op":"remove","path":"members[value eq \"`+u3+`\"]"}`)).Status)
		require.Equal(t, v, etagOf())
		require.Equal(t, sorted(u1, u2), s.memberIDs(id))

		// An unknown member id: 400 invalidValue naming it, and the whole request changes nothing.
		for _, bad := range []string{"no-such-user", other} {
			r := s.do("PATCH", "/Groups/"+id, patchOp(`{"op":"replace","path":"displayName","value":"Changed"}`,
				memberOps("add", u3, bad), memberOps("remove", u1)))
			requireError(t, r, 400, "invalidValue")
			require.Contains(t, r.Body["detail"], bad)
			require.Equal(t, v, etagOf())
			require.Equal(t, sorted(u1, u2), s.memberIDs(id))
			require.Equal(t, "G", s.do("GET", "/Groups/"+id, "").Body["displayName"])
		}
		r := s.do("PATCH", "/Groups/"+id, patchOp(`{"op":"add","path":"members","value":[{"value":"`+other+`","type":"Group"}]}`))
		requireError(t, r, 400, "invalidValue")

		// One request, one atomic UpdateGroup with attributes and deltas together.
		n := len(store.updates)
		r = s.do("PATCH", "/Groups/"+id, patchOp(`{"op":"replace","path":"displayName","value":"G2"}`, memberOps("add", u3), memberOps("remove", u1)))
		require.Equal(t, 204, r.Status, "%s", r.Raw)
		require.Len(t, store.updates, n+1)
		u := store.updates[n]
		require.Equal(t, "G2", u.Group.DisplayName)
		require.Equal(t, []string{u3}, u.Add)
		require.Equal(t, []string{u1}, u.Remove)
		require.Equal(t, sorted(u2, u3), s.memberIDs(id))

		// attributes in the query: 200 with the group, members only when named.
		r = s.do("PATCH", "/Groups/"+id+"?attributes=displayName", patchOp(memberOps("add", u1)))
		require.Equal(t, 200, r.Status, "%s", r.Raw)
		require.Equal(t, "G2", r.Body["displayName"])
		require.NotContains(t, r.Body, "members")
		r = s.do("PATCH", "/Groups/"+id+"?attributes=members", patchOp(memberOps("remove", u1)))
		require.Equal(t, 200, r.Status, "%s", r.Raw)
		require.Len(t, asList(r.Body["members"]), 2)
		require.NotContains(t, r.Body, "displayName")

		// Errors: removing displayName, read-only paths, members' sub-attributes, remove without a path.
		requireError(t, s.do("PATCH", "/Groups/"+id, patchOp(`{"op":"remove","path":"displayName"}`)), 400, "mutability")
		requireError(t, s.do("PATCH", "/Groups/"+id, patchOp(`{"op":"replace","path":"id","value":"x"}`)), 400, "mutability")
		requireError(t, s.do("PATCH", "/Groups/"+id, patchOp(`{"op":"replace","path":"members.display","value":"x"}`)), 400, "mutability")
		requireError(t, s.do("PATCH", "/Groups/"+id, patchOp(`{"op":"remove"}`)), 400, "noTarget")
		requireError(t, s.do("PATCH", "/Groups/"+id, patchOp(`{"op":"move","path":"members"}`)), 400, "invalidSyntax")
		requireError(t, s.do("PATCH", "/Groups/"+id, patchOp(`{"op":"add","path":"nope","value":"x"}`)), 400, "invalidPath")
		requireError(t, s.do("PATCH", "/Groups/nope", patchOp(memberOps("add", u1))), 404, "")
		// Empty Operations: a no-op success. A path of another schema (Entra's ADSCIM extension): ignored.
		require.Equal(t, 204, s.do("PATCH", "/Groups/"+id, `{"schemas":["`+patchOpURN+`"],"Operations":[]}`).Status)
		require.Equal(t, 204, s.do("PATCH", "/Groups/"+id, patchOp(`{"op":"add","path":"urn:example:ext:Group:x","value":"y"}`)).Status)

		// A filter that is not a list of ids, over the members.
		r = s.do("PATCH", "/Groups/"+id, patchOp(`{"op":"remove","path":"members[value ne \"`+u2+`\"]"}`))
		require.Equal(t, 204, r.Status, "%s", r.Raw)
		require.Equal(t, []string{u2}, s.memberIDs(id))

		// remove on members with no value and no filter removes every member (RFC 7644 §3.5.2.2); an empty value
		// list removes none.
		require.Equal(t, 204, s.do("PATCH", "/Groups/"+id, patchOp(memberOps("add", u1, u3))).Status)
		require.Equal(t, 204, s.do("PATCH", "/Groups/"+id, patchOp(`{"op":"remove","path":"members","value":[]}`)).Status)
		require.Equal(t, sorted(u1, u2, u3), s.memberIDs(id))
		require.Equal(t, 204, s.do("PATCH", "/Groups/"+id, patchOp(`{"op":"remove","path":"members"}`)).Status)
		require.Equal(t, []string{}, s.memberIDs(id))
		require.NotContains(t, s.do("GET", "/Groups/"+id, "").Body, "members")

		// Remove all, then add, in one request: the member list afterwards is the one added.
		require.Equal(t, 204, s.do("PATCH", "/Groups/"+id, patchOp(memberOps("add", u1, u2))).Status)
		require.Equal(t, 204, s.do("PATCH", "/Groups/"+id, patchOp(`{"op":"remove","path":"members"}`, memberOps("add", u2, u3))).Status)
		require.Equal(t, sorted(u2, u3), s.memberIDs(id))
		u = store.updates[len(store.updates)-1]
		require.Equal(t, []string{u3}, u.Add)
		require.Equal(t, []string{u1}, u.Remove)
	})
}

func TestGroupUniquenessAndETags(t *testing.T) {
	groupStores(t, func(t *testing.T, k groupKind) {
		s, _ := k.serve(t)
		id := s.createGroup(`{"displayName":"Engineering"}`)
		r := s.do("POST", "/Groups", `{"displayName":"ENGINEERING"}`)
		requireError(t, r, 409, "uniqueness")
		require.Contains(t, r.Body["detail"], "displayName")
		other := s.createGroup(`{"displayName":"Sales"}`)
		requireError(t, s.do("PATCH", "/Groups/"+other, patchOp(`{"op":"replace","path":"displayName","value":"engineering"}`)), 409, "uniqueness")
		requireError(t, s.do("PUT", "/Groups/"+other, `{"displayName":"Engineering"}`), 409, "uniqueness")
		requireError(t, s.do("POST", "/Groups", `{"members":[]}`), 400, "invalidValue")
		requireError(t, s.do("POST", "/Groups", `{"displayName":"x","members":[{"display":"no value"}]}`), 400, "invalidValue")
		requireError(t, s.do("POST", "/Groups", `{"displayName":"x","members":[{"value":"nobody"}]}`), 400, "invalidValue")
		// A case change of one's own name is not a conflict.
		require.Equal(t, 204, s.do("PATCH", "/Groups/"+id, patchOp(`{"op":"replace","path":"displayName","value":"engineering"}`)).Status)

		// ETags: If-None-Match, If-Match on PATCH, PUT and DELETE.
		r = s.do("GET", "/Groups/"+id, "")
		tag := r.Header.Get("ETag")
		require.NotEmpty(t, tag)
		require.Equal(t, tag, r.Body["meta"].(map[string]any)["version"])
		require.Equal(t, 304, s.do("GET", "/Groups/"+id, "", "If-None-Match", tag).Status)
		requireError(t, s.do("PATCH", "/Groups/"+id, patchOp(`{"op":"replace","path":"displayName","value":"E"}`), "If-Match", `W/"nope"`), 412, "")
		r = s.do("PATCH", "/Groups/"+id, patchOp(`{"op":"replace","path":"displayName","value":"E"}`), "If-Match", tag)
		require.Equal(t, 204, r.Status, "%s", r.Raw)
		require.NotEqual(t, tag, r.Header.Get("ETag"))
		requireError(t, s.do("PUT", "/Groups/"+id, `{"displayName":"F"}`, "If-Match", tag), 412, "")
		requireError(t, s.do("DELETE", "/Groups/"+id, "", "If-Match", tag), 412, "")
		require.Equal(t, 204, s.do("DELETE", "/Groups/"+id, "", "If-Match", r.Header.Get("ETag")).Status)
	})
}

func TestGroupsList(t *testing.T) {
	groupStores(t, func(t *testing.T, k groupKind) {
		s, _ := k.serve(t)
		u1, u2 := s.createUser("a@x"), s.createUser("b@x")
		ids := map[string]string{}
		for i, name := range []string{"Alpha", "Beta", "Gamma", "Delta"} {
			body := fmt.Sprintf(`{"displayName":%q,"externalId":"ext-%d"}`, name, i)
			if i%2 == 0 {
				body = fmt.Sprintf(`{"displayName":%q,"externalId":"ext-%d","members":[{"value":%q}]}`, name, i, u1)
			}
			ids[name] = s.createGroup(body)
		}
		s.do("PATCH", "/Groups/"+ids["Beta"], patchOp(memberOps("add", u1, u2)))
		names := func(path string) []string {
			t.Helper()
			r := s.do("GET", path, "")
			require.Equal(t, 200, r.Status, "%s %s", path, r.Raw)
			out := []string{}
			for _, g := range resources(t, r.Body) {
				out = append(out, g["displayName"].(string))
				if !strings.Contains(path, "attributes=members") {
					require.NotContains(t, g, "members", "lists leave members out unless asked")
				}
			}
			return out
		}
		q := func(f string) string { return enc("/Groups?filter=" + f) }
		require.Equal(t, []string{"Alpha", "Beta", "Gamma", "Delta"}, names("/Groups"))
		require.Equal(t, []string{"Beta"}, names(q(`displayName eq "beta"`)))
		require.Equal(t, []string{"Gamma"}, names(q(`externalId eq "ext-2"`)))
		require.Equal(t, []string{"Delta"}, names(q(`id eq "`+ids["Delta"]+`"`)))
		require.Equal(t, []string{"Alpha", "Beta", "Gamma"}, names(q(`members[value eq "`+u1+`"]`)))
		require.Equal(t, []string{"Beta"}, names(q(`members eq "`+u2+`"`)))
		require.Equal(t, []string{"Beta"}, names(q(`members.value eq "`+u2+`"`)))
		require.Equal(t, []string{"Alpha"}, names(q(`id eq "`+ids["Alpha"]+`" and members eq "`+u1+`"`)))
		require.Equal(t, []string{}, names(q(`id eq "`+ids["Delta"]+`" and members eq "`+u1+`"`)))
		require.Equal(t, []string{"Delta"}, names(q(`not (members eq "`+u1+`")`)))
		require.Equal(t, []string{"Delta"}, names(q(`not (members pr)`)))
		require.Equal(t, []string{"Beta"}, names(q(`members.display eq "B@X"`)))
		require.Equal(t, []string{"Alpha", "Delta"}, names(q(`displayName co "lt" or displayName sw "al"`)))
		require.Equal(t, []string{"Gamma", "Delta", "Beta", "Alpha"}, names("/Groups?sortBy=displayName&sortOrder=descending"))
		require.Equal(t, []string{"Beta", "Gamma"}, names("/Groups?startIndex=2&count=2"))
		r := s.do("GET", "/Groups?count=0", "")
		require.Equal(t, 4.0, r.Body["totalResults"])
		require.Empty(t, resources(t, r.Body))

		// attributes=members: members included.
		r = s.do("GET", q(`displayName eq "Beta"`)+"&attributes=members", "")
		g := resources(t, r.Body)[0]
		require.Len(t, asList(g["members"]), 2)
		require.NotContains(t, g, "displayName")
		require.Equal(t, ids["Beta"], g["id"])
		// POST /Groups/.search.
		r = s.do("POST", "/Groups/.search", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"displayName sw \"g\"","attributes":["displayName"]}`)
		require.Equal(t, 200, r.Status, "%s", r.Raw)
		require.Equal(t, 1.0, r.Body["totalResults"])

		requireError(t, s.do("GET", q(`userName eq "x"`), ""), 400, "invalidFilter")
		requireError(t, s.do("GET", "/Groups?sortBy=userName", ""), 400, "invalidValue")
		requireError(t, s.do("GET", "/Groups?cursor=", ""), 400, "invalidValue")
		requireError(t, s.do("GET", q(`meta.version eq "1"`), ""), 400, "invalidFilter")
	})
}

func TestUserGroupsAttribute(t *testing.T) {
	groupStores(t, func(t *testing.T, k groupKind) {
		s, store := k.serve(t)
		u1, u2 := s.createUser("a@x"), s.createUser("b@x")
		require.Zero(t, store.groupsOf.Load(), "a new user has no groups to look up")
		g1 := s.createGroup(`{"displayName":"One","members":[{"value":"` + u1 + `"}]}`)
		g2 := s.createGroup(`{"displayName":"Two","members":[{"value":"` + u1 + `"},{"value":"` + u2 + `"}]}`)

		gs := asList(s.get(u1)["groups"])
		require.Equal(t, []map[string]any{
			{"value": g1, "display": "One", "$ref": s.URL + "/Groups/" + g1, "type": "direct"},
			{"value": g2, "display": "Two", "$ref": s.URL + "/Groups/" + g2, "type": "direct"},
		}, gs)

		// No GroupsOf call when the projection leaves groups out.
		n := store.groupsOf.Load()
		require.NotContains(t, s.do("GET", "/Users/"+u1+"?excludedAttributes=groups", "").Body, "groups")
		require.NotContains(t, s.do("GET", "/Users/"+u1+"?attributes=userName", "").Body, "groups")
		require.NotContains(t, resources(t, s.do("GET", "/Users?excludedAttributes=groups", "").Body)[0], "groups")
		require.Equal(t, n, store.groupsOf.Load())
		r := s.do("GET", "/Users/"+u1+"?attributes=groups.display", "")
		require.Equal(t, []any{map[string]any{"display": "One"}, map[string]any{"display": "Two"}}, r.Body["groups"])

		// A list: one call per page.
		n = store.groupsOf.Load()
		r = s.do("GET", "/Users", "")
		require.Equal(t, n+1, store.groupsOf.Load())
		us := resources(t, r.Body)
		require.Len(t, asList(us[0]["groups"]), 2)
		require.Len(t, asList(us[1]["groups"]), 1)

		// Writes ignore groups: it is read-only, and computed.
		r = s.do("PUT", "/Users/"+u2, `{"userName":"b@x","groups":[{"value":"`+g1+`"}]}`)
		require.Equal(t, 200, r.Status, "%s", r.Raw)
		require.Equal(t, []map[string]any{{"value": g2, "display": "Two", "$ref": s.URL + "/Groups/" + g2, "type": "direct"}}, asList(r.Body["groups"]))
		requireError(t, s.do("PATCH", "/Users/"+u2, patchOp(`{"op":"add","path":"groups","value":[{"value":"`+g1+`"}]}`)), 400, "mutability")

		// Deactivating keeps memberships; deleting the user removes them.
		require.Equal(t, 200, s.do("PATCH", "/Users/"+u1, patchOp(`{"op":"Replace","path":"active","value":"False"}`)).Status)
		require.Equal(t, sorted(u1, u2), s.memberIDs(g2))
		v := s.do("GET", "/Groups/"+g2, "").Header.Get("ETag")
		require.Equal(t, 204, s.do("DELETE", "/Users/"+u1, "").Status)
		require.Equal(t, []string{u2}, s.memberIDs(g2))
		require.NotEqual(t, v, s.do("GET", "/Groups/"+g2, "").Header.Get("ETag"), "the group changed")
		require.Equal(t, []string{}, s.memberIDs(g1))
	})
}

func TestUsersFilteredByGroup(t *testing.T) {
	groupStores(t, func(t *testing.T, k groupKind) {
		s, _ := k.serve(t)
		var members []string
		for i := range 7 {
			members = append(members, s.createUser(fmt.Sprintf("m%d@x", i)))
		}
		outsider := s.createUser("outsider@x")
		g := s.createGroup(`{"displayName":"Big"}`)
		other := s.createGroup(`{"displayName":"Small","members":[{"value":"` + outsider + `"},{"value":"` + members[0] + `"}]}`)
		require.Equal(t, 204, s.do("PATCH", "/Groups/"+g, patchOp(memberOps("add", members...))).Status)

		page := func(f, extra string) ([]string, float64) {
			t.Helper()
			r := s.do("GET", enc("/Users?filter="+f)+extra, "")
			require.Equal(t, 200, r.Status, "%s", r.Raw)
			return userNames(t, r.Body), r.Body["totalResults"].(float64)
		}
		names, total := page(`groups.value eq "`+g+`"`, "&startIndex=1&count=3")
		require.Equal(t, []string{"m0@x", "m1@x", "m2@x"}, names)
		require.Equal(t, 7.0, total)
		names, _ = page(`groups eq "`+g+`"`, "&startIndex=7&count=3")
		require.Equal(t, []string{"m6@x"}, names)
		names, total = page(`groups[value eq "`+other+`"]`, "")
		require.Equal(t, []string{"m0@x", "outsider@x"}, names)
		require.Equal(t, 2.0, total)
		names, _ = page(`groups.value eq "`+g+`" and userName sw "m1"`, "")
		require.Equal(t, []string{"m1@x"}, names)
		names, _ = page(`groups.display eq "small"`, "&sortBy=userName&sortOrder=descending")
		require.Equal(t, []string{"outsider@x", "m0@x"}, names)
		names, _ = page(`not (groups pr)`, "")
		require.Equal(t, []string{}, names)
	})
}

func TestLargeGroups(t *testing.T) {
	groupStores(t, func(t *testing.T, k groupKind) {
		s, store := k.serve(t, scim.WithLimits(scim.Limits{MaxMembersReturned: 3, MaxGroupBodyBytes: 8 << 20}))
		var ids []string
		for i := range 4 {
			ids = append(ids, s.createUser(fmt.Sprintf("l%d@x", i)))
		}
		g := s.createGroup(`{"displayName":"L","members":[{"value":"` + ids[0] + `"},{"value":"` + ids[1] + `"},{"value":"` + ids[2] + `"}]}`)
		require.Len(t, asList(s.do("GET", "/Groups/"+g, "").Body["members"]), 3)
		require.Equal(t, 204, s.do("PATCH", "/Groups/"+g, patchOp(memberOps("add", ids[3]))).Status)
		r := s.do("GET", "/Groups/"+g, "")
		require.Equal(t, 200, r.Status)
		require.NotContains(t, r.Body, "members", "above the cap: left out, never cut short")
		require.Equal(t, "L", r.Body["displayName"])
		r = s.do("GET", "/Groups?attributes=members,displayName", "")
		require.NotContains(t, resources(t, r.Body)[0], "members")
		names, _ := func() ([]string, float64) {
			r := s.do("GET", "/Users?filter=groups.value+eq+%22"+g+"%22&count=2&startIndex=3", "")
			return userNames(t, r.Body), r.Body["totalResults"].(float64)
		}()
		require.Equal(t, []string{"l2@x", "l3@x"}, names, "a large group's members page as users")

		// A PUT of n members with one changed is one delta each way. n is 100,000 on memstore; on SQL its
		// users are created one transaction each, so 10,000 there keeps the test to seconds (the Store's own
		// benchmarks measure 100k), and a longer display keeps the body over the users' 1 MiB limit.
		ctx := single()
		n, display := 100_000, "someone"
		if k.name != "memory" {
			n, display = 10_000, strings.Repeat("someone ", 12)
		}
		big := make([]string, n)
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for w := range errs {
			wg.Go(func() {
				for i := w; i < n && errs[w] == nil; i += len(errs) {
					u, err := store.Create(ctx, &scim.User{ID: fmt.Sprintf("big-%06d", i), UserName: fmt.Sprintf("big%d@x", i)})
					if errs[w] = err; err == nil {
						big[i] = u.ID
					}
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		_, err := store.UpdateGroup(ctx, g, scim.GroupUpdate{Add: big[:n-1], Remove: ids}, "")
		require.NoError(t, err)
		var body strings.Builder
		body.WriteString(`{"displayName":"L","members":[`)
		for i, id := range append(slices.Clone(big[1:n-1]), big[n-1]) {
			if i > 0 {
				body.WriteByte(',')
			}
			body.WriteString(`{"value":"` + id + `","display":"` + display + `"}`)
		}
		body.WriteString(`]}`)
		require.Greater(t, body.Len(), 1<<20, "larger than the users' body limit")
		before := len(store.updates)
		r = s.do("PUT", "/Groups/"+g, body.String())
		require.Equal(t, 200, r.Status, "%.300s", r.Raw)
		require.NotContains(t, r.Body, "members")
		require.Len(t, store.updates, before+1)
		u := store.updates[before]
		require.Equal(t, []string{big[n-1]}, u.Add)
		require.Equal(t, []string{big[0]}, u.Remove)

		small, _ := k.serve(t, scim.WithLimits(scim.Limits{MaxGroupBodyBytes: 64}))
		requireError(t, small.do("POST", "/Groups", `{"displayName":"`+strings.Repeat("x", 100)+`"}`), 413, "")
	})
}

func TestGroupEvents(t *testing.T) {
	groupStores(t, func(t *testing.T, k groupKind) {
		log := newEventLog()
		s, _ := k.serve(t, scim.WithEvents(log.hook))
		u1 := s.createUser("a@x")
		log.next(t)
		u2 := s.createUser("b@x")
		log.next(t)
		wait := func(n int) []scim.Event {
			t.Helper()
			for range n {
				select {
				case <-log.ch:
				case <-time.After(5 * time.Second):
					t.Fatal("no event delivered")
				}
			}
			log.none(t)
			log.mu.Lock()
			defer log.mu.Unlock()
			return slices.Clone(log.events[len(log.events)-n:])
		}
		g := s.createGroup(`{"displayName":"G","members":[{"value":"` + u1 + `"}]}`)
		e := wait(1)[0]
		require.Equal(t, scim.GroupCreated, e.Type)
		require.Equal(t, "Group", e.Resource)
		require.Equal(t, g, e.GroupID)
		require.Equal(t, "G", e.Group.DisplayName)
		require.Equal(t, []string{u1}, e.Added)
		require.Empty(t, e.UserID)

		require.Equal(t, 204, s.do("PATCH", "/Groups/"+g, patchOp(`{"op":"replace","path":"displayName","value":"H"}`,
			memberOps("add", u2, u1), memberOps("remove", u1))).Status)
		es := wait(3)
		require.Equal(t, []scim.EventType{scim.GroupUpdated, scim.GroupMembersAdded, scim.GroupMembersRemoved},
			[]scim.EventType{es[0].Type, es[1].Type, es[2].Type})
		require.Equal(t, []string{"displayName"}, es[0].Changed)
		require.Equal(t, []string{u2}, es[1].Added)
		require.Equal(t, []string{u1}, es[2].Removed)
		require.Equal(t, es[0].Version, es[2].Version)
		require.Equal(t, strings.Trim(strings.TrimPrefix(s.do("GET", "/Groups/"+g, "").Header.Get("ETag"), "W/"), `"`), es[0].Version)

		// Nothing changes: no event, no write.
		require.Equal(t, 204, s.do("PATCH", "/Groups/"+g, patchOp(memberOps("add", u2), memberOps("remove", u1))).Status)
		log.none(t)

		require.Equal(t, 204, s.do("DELETE", "/Groups/"+g, "").Status)
		e = wait(1)[0]
		require.Equal(t, scim.GroupDeleted, e.Type)
		require.Equal(t, g, e.GroupID)

		// User events say they are about users.
		s.createUser("c@x")
		require.Equal(t, "User", log.next(t).Resource)
	})
}

// TestGroupConcurrentPatches replays Entra ID's first sync of a large group: one PATCH per member, many at
// once. Every member must land.
func TestGroupConcurrentPatches(t *testing.T) {
	groupStores(t, func(t *testing.T, k groupKind) {
		for _, events := range []bool{false, true} {
			t.Run(fmt.Sprintf("events=%v", events), func(t *testing.T) {
				s, _ := k.serve(t, concurrentOpts(events)...)
				concurrentAdds(t, s)
			})
		}
	})
}

// concurrentOpts are the options of the concurrent PATCH tests' handlers, with group events or without. 50
// requests at once are over the default tenant limits (8 served, 32 queued): Entra sends about 5 at a time,
// and retries after a 429. Here all 50 are served, so that every one races the others.
func concurrentOpts(events bool) []scim.Option {
	opts := []scim.Option{scim.WithLimits(scim.Limits{Tenant: scim.TenantLimits{MaxConcurrent: 8, MaxQueue: 64, MaxWait: time.Minute}})}
	if events {
		opts = append(opts, scim.WithEvents(func(context.Context, scim.Event) {}))
	}
	return opts
}

// concurrentAdds creates a group and 50 users, sends 50 single-member PATCHes at once, the i-th to
// servers[i%len(servers)], and requires all 50 members on every server.
func concurrentAdds(t *testing.T, servers ...*testServer) {
	t.Helper()
	s := servers[0]
	g := s.createGroup(`{"displayName":"Concurrent"}`)
	ids := make([]string, 50)
	for i := range ids {
		ids[i] = s.createUser(fmt.Sprintf("c%d@x", i))
	}
	var wg sync.WaitGroup
	statuses := make([]string, len(ids))
	for i, id := range ids {
		wg.Go(func() {
			to := servers[i%len(servers)]
			r, err := to.send("PATCH", "/Groups/"+g, patchOp(`{"op":"Add","path":"members","value":[{"$ref":null,"value":"`+id+`"}]}`))
			statuses[i] = fmt.Sprint(r.Status, err)
		})
	}
	wg.Wait()
	for i, st := range statuses {
		require.Equal(t, "204 <nil>", st, "PATCH %d", i)
	}
	for _, s := range servers {
		require.Equal(t, sorted(ids...), s.memberIDs(g))
	}
}

func TestRootSearch(t *testing.T) {
	groupStores(t, func(t *testing.T, k groupKind) {
		s, _ := k.serve(t)
		s.create(`{"userName":"ann@x","displayName":"Ann"}`)
		s.create(`{"userName":"bob@x","displayName":"Bob"}`)
		s.createGroup(`{"displayName":"Admins"}`)
		s.createGroup(`{"displayName":"Ann"}`)
		search := func(body string) result {
			t.Helper()
			r := s.do("POST", "/.search", body)
			require.Equal(t, 200, r.Status, "%s", r.Raw)
			return r
		}
		kinds := func(r result) []string {
			out := []string{}
			for _, x := range resources(t, r.Body) {
				out = append(out, x["meta"].(map[string]any)["resourceType"].(string)+":"+x["displayName"].(string))
			}
			return out
		}
		r := search(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"displayName eq \"Ann\""}`)
		require.Equal(t, []string{"User:Ann", "Group:Ann"}, kinds(r))
		require.Equal(t, 2.0, r.Body["totalResults"])
		r = search(`{"filter":"userName sw \"a\""}`)
		require.Equal(t, []string{"User:Ann"}, kinds(r), "a filter on userName: groups contribute nothing")
		r = search(`{}`)
		require.Equal(t, []string{"User:Ann", "User:Bob", "Group:Admins", "Group:Ann"}, kinds(r))
		r = search(`{"startIndex":2,"count":2}`)
		require.Equal(t, []string{"User:Bob", "Group:Admins"}, kinds(r))
		require.Equal(t, 4.0, r.Body["totalResults"])
		require.Equal(t, 2.0, r.Body["startIndex"])
		r = search(`{"startIndex":4,"count":5}`)
		require.Equal(t, []string{"Group:Ann"}, kinds(r))
		r = search(`{"count":0}`)
		require.Equal(t, 4.0, r.Body["totalResults"])
		require.Equal(t, []string{}, kinds(r))
		r = search(`{"sortBy":"displayName","sortOrder":"descending","excludedAttributes":["members","emails"]}`)
		require.Equal(t, []string{"User:Bob", "User:Ann", "Group:Ann", "Group:Admins"}, kinds(r))
		requireError(t, s.do("POST", "/.search", `{"filter":"nope eq \"x\""}`), 400, "invalidFilter")
		requireError(t, s.do("POST", "/.search", `{"filter":"displayName eq"}`), 400, "invalidFilter")
		requireError(t, s.do("POST", "/.search", `{"cursor":""}`), 400, "invalidValue")
	})
}
