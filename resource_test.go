package scim_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/memstore"
	"github.com/scimkit/scim/schema"
	"github.com/scimkit/scim/scimtest"
)

// deviceType is a host's own resource type, the kit's sample (scimtest.DeviceType): a unique serial
// (without case), a globally unique assetTag, labels, a multi-valued tags attribute, and an extension.
var deviceType = scimtest.DeviceType()

// roleType is a read-only catalog, as Okta imports.
var roleType = schema.MustDeclare(schema.ResourceDeclaration{
	Name: "Role",
	Schema: &schema.Schema{ID: "urn:example:params:scim:schemas:2.0:Role", Attributes: []*schema.Attribute{
		{Name: "displayName", Type: schema.String, Required: true},
	}},
})

func newDeclaredServer(t *testing.T) (*testServer, *memstore.Documents) {
	roles := memstore.NewDocuments(roleType)
	s := newTestServer(t,
		scim.WithResource(scim.Resource{Type: deviceType, Store: memstore.NewDocuments(deviceType)}),
		scim.WithResource(scim.Resource{Type: roleType, Store: roles, ReadOnly: true, Grants: "roles"}))
	return s, roles
}

func TestDeclaredResourceCRUD(t *testing.T) {
	s, _ := newDeclaredServer(t)
	r := s.do("POST", "/devices", `{"schemas":["urn:example:params:scim:schemas:2.0:Device"],"serial":"SN-1","label":"Desk",
		"rank":"3","tags":"a","urn:example:params:scim:schemas:extension:2.0:Device":{"site":"Oslo"},"unknown":1}`)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Raw)
	id := r.Body["id"].(string)
	require.Equal(t, s.URL+"/Devices/"+id, r.Header.Get("Location"))
	require.Equal(t, float64(3), r.Body["rank"], "coerced to the declared integer")
	require.Equal(t, []any{"a"}, r.Body["tags"], "a single value of a multi-valued attribute is wrapped")
	require.NotContains(t, r.Body, "unknown")
	meta := r.Body["meta"].(map[string]any)
	require.Equal(t, "Device", meta["resourceType"])
	require.Equal(t, r.Header.Get("ETag"), meta["version"])
	require.ElementsMatch(t, []any{"urn:example:params:scim:schemas:2.0:Device", "urn:example:params:scim:schemas:extension:2.0:Device"}, r.Body["schemas"])

	requireError(t, s.do("POST", "/Devices", `{"serial":"sn-1"}`), http.StatusConflict, "uniqueness")
	requireError(t, s.do("POST", "/Devices", `{"label":"no serial"}`), http.StatusBadRequest, "invalidValue")
	requireError(t, s.do("POST", "/Devices", `{"serial":"SN-2","rank":"x"}`), http.StatusBadRequest, "invalidValue")

	g := s.do("GET", "/Devices/"+id+"?attributes=label", "")
	require.Equal(t, http.StatusOK, g.Status)
	require.Equal(t, "Desk", g.Body["label"])
	require.NotContains(t, g.Body, "serial")
	require.Equal(t, http.StatusNotModified, s.do("GET", "/Devices/"+id, "", "If-None-Match", r.Header.Get("ETag")).Status)

	p := s.do("PATCH", "/Devices/"+id, patchOp(`{"op":"add","path":"tags","value":["b"]}`, `{"op":"replace","path":"label","value":"Shelf"}`))
	require.Equal(t, http.StatusOK, p.Status, "%s", p.Raw)
	require.Equal(t, []any{"a", "b"}, p.Body["tags"])
	require.NotEqual(t, r.Header.Get("ETag"), p.Header.Get("ETag"))
	require.Equal(t, meta["created"], p.Body["meta"].(map[string]any)["created"])
	same := s.do("PATCH", "/Devices/"+id, patchOp(`{"op":"replace","path":"label","value":"Shelf"}`))
	require.Equal(t, p.Header.Get("ETag"), same.Header.Get("ETag"), "a change that changes nothing is not written")
	requireError(t, s.do("PATCH", "/Devices/"+id, patchOp(`{"op":"remove","path":"serial"}`)), http.StatusBadRequest, "mutability")
	requireError(t, s.do("PATCH", "/Devices/"+id, patchOp(`{"op":"replace","path":"label","value":"x"}`), "If-Match", r.Header.Get("ETag")),
		http.StatusPreconditionFailed, "")

	put := s.do("PUT", "/Devices/"+id, `{"serial":"SN-1","label":"Rack"}`)
	require.Equal(t, http.StatusOK, put.Status, "%s", put.Raw)
	require.NotContains(t, put.Body, "tags", "PUT replaces")
	require.Equal(t, "Rack", put.Body["label"])

	require.Equal(t, http.StatusNoContent, s.do("DELETE", "/Devices/"+id, "").Status)
	requireError(t, s.do("GET", "/Devices/"+id, ""), http.StatusNotFound, "")
}

func TestDeclaredResourceList(t *testing.T) {
	s, _ := newDeclaredServer(t)
	for i, serial := range []string{"C", "a", "B"} {
		require.Equal(t, http.StatusCreated, s.do("POST", "/Devices", `{"serial":"`+serial+`","rank":`+string(rune('1'+i))+`}`).Status)
	}
	l := s.listAt("/Devices?sortBy=serial&count=2")
	require.EqualValues(t, 3, l["totalResults"])
	res := l["Resources"].([]any)
	require.Len(t, res, 2)
	require.Equal(t, "a", res[0].(map[string]any)["serial"])
	require.Equal(t, "B", res[1].(map[string]any)["serial"])

	eq := s.listAt(`/Devices?filter=serial eq "c"`)
	require.EqualValues(t, 1, eq["totalResults"], "serial compares without case")
	gt := s.listAt(`/Devices?filter=rank gt 1&sortBy=rank&sortOrder=descending`)
	require.EqualValues(t, 2, gt["totalResults"])
	require.Equal(t, "B", gt["Resources"].([]any)[0].(map[string]any)["serial"])

	requireError(t, s.do("GET", `/Devices?filter=nope%20eq%20"x"`, ""), http.StatusBadRequest, "invalidFilter")
	search := s.do("POST", "/Devices/.search", `{"filter":"serial sw \"b\"","attributes":["serial"]}`)
	require.Equal(t, http.StatusOK, search.Status, "%s", search.Raw)
	require.EqualValues(t, 1, search.Body["totalResults"])

	// Cursor paging walks every device once.
	var seen []string
	cursor := ""
	for range 5 {
		page := s.listAt("/Devices?count=1&cursor=" + cursor)
		for _, r := range page["Resources"].([]any) {
			seen = append(seen, r.(map[string]any)["serial"].(string))
		}
		next, _ := page["nextCursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	require.Equal(t, []string{"C", "a", "B"}, seen)
}

func TestDeclaredReadOnlyCatalogAndGrants(t *testing.T) {
	s, roles := newDeclaredServer(t)
	ctx := scim.ContextWithTenant(context.Background(), "")
	admin, err := roles.Create(ctx, &scim.Document{ID: "admin", Attributes: map[string]any{"displayName": "Administrator"}})
	require.NoError(t, err)

	r := s.do("POST", "/Roles", `{"displayName":"x"}`)
	requireError(t, r, http.StatusMethodNotAllowed, "mutability")
	require.Equal(t, "GET", r.Header.Get("Allow"))
	requireError(t, s.do("PATCH", "/Roles/admin", patchOp(`{"op":"replace","path":"displayName","value":"y"}`)), http.StatusMethodNotAllowed, "mutability")
	require.Equal(t, "Administrator", s.do("GET", "/Roles/"+admin.ID, "").Body["displayName"])
	require.EqualValues(t, 1, s.listAt("/Roles")["totalResults"])

	sch := s.do("GET", "/Schemas/urn:example:params:scim:schemas:2.0:Role", "")
	require.Equal(t, http.StatusOK, sch.Status)
	require.Equal(t, "readOnly", sch.Body["attributes"].([]any)[0].(map[string]any)["mutability"])
	types := s.listAt("/ResourceTypes")
	var names []string
	for _, rt := range types["Resources"].([]any) {
		names = append(names, rt.(map[string]any)["name"].(string))
	}
	require.Equal(t, []string{"User", "Group", "Device", "Role"}, names)

	// Okta grants a role by PATCHing the user's roles: an id the catalog lacks is refused.
	id := s.createUser("grant@example.com")
	requireError(t, s.patch(id, `{"op":"add","path":"roles","value":[{"value":"root"}]}`), http.StatusBadRequest, "invalidValue")
	ok := s.patch(id, `{"op":"add","path":"roles","value":[{"value":"admin","display":"Administrator"}]}`)
	require.Equal(t, http.StatusOK, ok.Status, "%s", ok.Raw)
	require.Equal(t, "admin", s.get(id)["roles"].([]any)[0].(map[string]any)["value"])
	requireError(t, s.do("POST", "/Users", `{"userName":"x@example.com","roles":[{"value":"nope"}]}`), http.StatusBadRequest, "invalidValue")
}

func TestWithResourceRefusesClashes(t *testing.T) {
	store := memstore.New()
	for _, rt := range []*schema.ResourceType{
		schema.MustDeclare(schema.ResourceDeclaration{Name: "Users", Endpoint: "/Users", Schema: deviceType.Core}),
		schema.MustDeclare(schema.ResourceDeclaration{Name: "Bulks", Endpoint: "/Bulk", Schema: deviceType.Core}),
	} {
		_, err := scim.New(store, scim.WithTokens("t"), scim.WithResource(scim.Resource{Type: rt, Store: memstore.NewDocuments(rt)}))
		require.ErrorIs(t, err, scim.ErrInvalidOption, rt.Endpoint)
	}
	_, err := scim.New(store, scim.WithTokens("t"), scim.WithResource(scim.Resource{Type: roleType, Store: memstore.NewDocuments(roleType), Grants: "nickName"}))
	require.ErrorIs(t, err, scim.ErrInvalidOption, "Grants names a single-valued attribute")
	_, err = schema.Declare(schema.ResourceDeclaration{Name: "Bad", Schema: &schema.Schema{ID: "urn:x:Bad", Attributes: []*schema.Attribute{{Name: "id", Type: schema.String}}}})
	require.Error(t, err, "id is a common attribute")
}

// listAt GETs a list at path (with its query, spaces escaped) and returns the answer, which must be 200.
func (s *testServer) listAt(path string) map[string]any {
	s.t.Helper()
	r := s.do("GET", strings.ReplaceAll(path, " ", "%20"), "")
	require.Equal(s.t, http.StatusOK, r.Status, "%s", r.Raw)
	return r.Body
}

func TestSearchAllReachesDeclaredTypes(t *testing.T) {
	s, _ := newDeclaredServer(t)
	s.createUser("u1@example.com")
	for _, serial := range []string{"d1", "d2"} {
		require.Equal(t, http.StatusCreated, s.do("POST", "/Devices", `{"serial":"`+serial+`"}`).Status)
	}
	all := s.do("POST", "/.search", `{"startIndex":2,"count":5}`)
	require.Equal(t, http.StatusOK, all.Status, "%s", all.Raw)
	require.EqualValues(t, 3, all.Body["totalResults"], "one user and two devices (no roles)")
	res := all.Body["Resources"].([]any)
	require.Len(t, res, 2, "the page starts at the second resource: the first device")
	require.Equal(t, "d1", res[0].(map[string]any)["serial"])
	only := s.do("POST", "/.search", `{"filter":"serial eq \"d2\""}`)
	require.EqualValues(t, 1, only.Body["totalResults"], "%s", only.Raw)
}

func TestDeclaredResourceEvents(t *testing.T) {
	events := make(chan scim.Event, 8)
	s := newTestServer(t, scim.WithEvents(func(_ context.Context, e scim.Event) { events <- e }),
		scim.WithResource(scim.Resource{Type: deviceType, Store: memstore.NewDocuments(deviceType)}))
	r := s.do("POST", "/Devices", `{"serial":"E-1"}`)
	require.Equal(t, http.StatusCreated, r.Status)
	id := r.Body["id"].(string)
	require.Equal(t, http.StatusOK, s.do("PATCH", "/Devices/"+id, patchOp(`{"op":"replace","path":"label","value":"L"}`)).Status)
	require.Equal(t, http.StatusNoContent, s.do("DELETE", "/Devices/"+id, "").Status)
	for _, want := range []scim.EventType{scim.ResourceCreated, scim.ResourceUpdated, scim.ResourceDeleted} {
		e := <-events
		require.Equal(t, want, e.Type)
		require.Equal(t, "Device", e.Resource)
		require.Equal(t, id, e.Document.ID)
		require.Empty(t, e.UserID)
	}
}

func TestBulkReachesDeclaredTypes(t *testing.T) {
	s, roles := newDeclaredServer(t)
	_, err := roles.Create(scim.ContextWithTenant(context.Background(), ""), &scim.Document{ID: "viewer", Attributes: map[string]any{"displayName": "Viewer"}})
	require.NoError(t, err)
	r := s.do("POST", "/Bulk", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[
		{"method":"POST","path":"/Devices","bulkId":"d1","data":{"serial":"B-1"}},
		{"method":"PATCH","path":"/Devices/bulkId:d1","data":{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"label","value":"from bulk"}]}},
		{"method":"POST","path":"/Users","bulkId":"u1","data":{"userName":"bulk@example.com","roles":[{"value":"viewer"}]}},
		{"method":"POST","path":"/Roles","bulkId":"r1","data":{"displayName":"Nope"}}]}`)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Raw)
	ops := r.Body["Operations"].([]any)
	var statuses []any
	for _, op := range ops {
		statuses = append(statuses, op.(map[string]any)["status"])
	}
	require.Equal(t, []any{"201", "200", "201", "405"}, statuses, "%s", r.Raw)
	loc := ops[0].(map[string]any)["location"].(string)
	require.Equal(t, "from bulk", s.do("GET", loc[len(s.URL):], "").Body["label"])
}
