package scim_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/memstore"
	"github.com/scimkit/scim/schema"
)

// The host's own extension, as an Entra ID admin maps custom attributes to it (../shared/ENTRA.md).
const moqupsURN = "urn:ietf:params:scim:schemas:extension:Moqups:2.0:User"

var moqups = &schema.Schema{ID: moqupsURN, Name: "Moqups user", Attributes: []*schema.Attribute{
	{Name: "tag", Type: schema.String},
	{Name: "costCode", Type: schema.String, CaseExact: true},
	{Name: "seats", Type: schema.Integer},
	{Name: "vip", Type: schema.Boolean},
	{Name: "hired", Type: schema.DateTime},
	{Name: "plan", Type: schema.String, CanonicalValues: []string{"free", "team"}},
}}

// entraOnly is what a Moqups-like app keeps: the five attributes Entra ID maps, and its extension.
var entraOnly = schema.MustDeclareUser(schema.UserDeclaration{
	Attributes: []string{"userName", "active", "displayName", "emails", "name.formatted"},
	Extensions: []*schema.Schema{moqups},
})

// withMoqups is every core and enterprise attribute plus the host's extension.
var withMoqups = schema.MustDeclareUser(schema.UserDeclaration{Extensions: []*schema.Schema{moqups}})

// TestDeclaredExtensionRoundTrips: a declared custom attribute round-trips through POST (the URN absent from
// schemas, as Entra sends it), PATCH with a full-URN path, compliant-mode path-less replace with full-URN
// keys, and filters, on every store; /Schemas and /ResourceTypes describe it; a Store reads it typed.
func TestDeclaredExtensionRoundTrips(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind.name, func(t *testing.T) {
			store := kind.open(t)
			s := serveStoreAt(t, store, scim.WithPasswords(scim.PasswordsHashed), scim.WithUserSchema(withMoqups))

			sc := s.do("GET", "/Schemas/"+moqupsURN, "")
			require.Equal(t, 200, sc.Status, "%s", sc.Raw)
			require.Equal(t, moqupsURN, sc.Body["id"])
			attrs := map[string]map[string]any{}
			for _, a := range sc.Body["attributes"].([]any) {
				attrs[a.(map[string]any)["name"].(string)] = a.(map[string]any)
			}
			require.Equal(t, "integer", attrs["seats"]["type"])
			require.Equal(t, "readWrite", attrs["tag"]["mutability"])
			require.Equal(t, true, attrs["costCode"]["caseExact"])
			rt := s.do("GET", "/ResourceTypes/User", "")
			require.Contains(t, jsonString(rt.Body["schemaExtensions"]), moqupsURN)

			// POST: the extension object present, its URN absent from schemas.
			r := s.do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ext@contoso.com",
				"`+moqupsURN+`":{"tag":"Blue","costCode":"CC-1","seats":"3","vip":"True","hired":"2024-02-01T10:00:00Z","unknownOne":"x"}}`)
			require.Equal(t, 201, r.Status, "%s", r.Raw)
			id := r.Body["id"].(string)
			want := map[string]any{"tag": "Blue", "costCode": "CC-1", "seats": 3.0, "vip": true, "hired": "2024-02-01T10:00:00Z"}
			require.Equal(t, want, r.Body[moqupsURN])
			require.Contains(t, stringsOf(r.Body["schemas"]), moqupsURN)
			require.Equal(t, want, s.get(id)[moqupsURN])

			// From Go, typed.
			u, err := store.Get(single(), id)
			require.NoError(t, err)
			seats, ok := scim.ExtensionAttr[int64]{URN: moqupsURN, Name: "seats"}.Get(u)
			require.True(t, ok)
			require.Equal(t, int64(3), seats)
			hired, ok := scim.ExtensionAttr[time.Time]{URN: moqupsURN, Name: "hired"}.Get(u)
			require.True(t, ok)
			require.True(t, hired.Equal(time.Date(2024, 2, 1, 10, 0, 0, 0, time.UTC)))

			// PATCH with a full-URN path (Entra's default mode).
			p := s.patch(id, `{"op":"Replace","path":"`+moqupsURN+`:tag","value":"Green"}`,
				`{"op":"Add","path":"`+moqupsURN+`:seats","value":5}`)
			require.Equal(t, 200, p.Status, "%s", p.Raw)
			require.Equal(t, "Green", s.get(id)[moqupsURN].(map[string]any)["tag"])
			require.Equal(t, 5.0, s.get(id)[moqupsURN].(map[string]any)["seats"])

			// Compliant mode (aadOptscim062020): path-less replace with full-URN dotted keys.
			p = s.patch(id, `{"op":"replace","value":{"displayName":"Ext","`+moqupsURN+`:tag":"Red","`+moqupsURN+`:vip":"False"}}`)
			require.Equal(t, 200, p.Status, "%s", p.Raw)
			got := s.get(id)
			require.Equal(t, "Ext", got["displayName"])
			require.Equal(t, "Red", got[moqupsURN].(map[string]any)["tag"])
			require.Equal(t, false, got[moqupsURN].(map[string]any)["vip"])

			// Filters: caseExact false folds, caseExact true does not; integers compare as numbers.
			other := s.do("POST", "/Users", `{"userName":"other@contoso.com","`+moqupsURN+`":{"tag":"blue","costCode":"cc-1","seats":50}}`)
			require.Equal(t, 201, other.Status, "%s", other.Raw)
			require.Equal(t, []string{"ext@contoso.com"}, s.filter(moqupsURN+`:tag eq "RED"`))
			require.Equal(t, []string{"ext@contoso.com"}, s.filter(moqupsURN+`:costCode eq "CC-1"`))
			require.Equal(t, []string{"other@contoso.com"}, s.filter(moqupsURN+`:seats gt 9`))
			require.Equal(t, []string{"ext@contoso.com"}, s.filter(moqupsURN+`:vip eq false`))
			require.Equal(t, []string{"ext@contoso.com"}, s.filter(moqupsURN+`:hired pr`))
			list := s.list("sortBy=" + url.QueryEscape(moqupsURN+":seats") + "&sortOrder=descending")
			require.Equal(t, []string{"other@contoso.com", "ext@contoso.com"}, userNames(t, list))

			// Strict types: a value of the wrong JSON type is refused, and changes nothing.
			requireError(t, s.patch(id, `{"op":"replace","path":"`+moqupsURN+`:seats","value":"many"}`), 400, "invalidValue")
			requireError(t, s.do("POST", "/Users", `{"userName":"bad@contoso.com","`+moqupsURN+`":{"tag":7}}`), 400, "invalidValue")
			requireError(t, s.do("POST", "/Users", `{"userName":"bad@contoso.com","`+moqupsURN+`":"tag"}`), 400, "invalidValue")
			requireError(t, s.do("GET", "/Users?filter="+url.QueryEscape(moqupsURN+`:nope eq "x"`), ""), 400, "invalidFilter")

			// Removing the last attribute removes the extension, schemas included.
			p = s.patch(id, `{"op":"remove","path":"`+moqupsURN+`"}`)
			require.Equal(t, 200, p.Status, "%s", p.Raw)
			require.NotContains(t, p.Body, moqupsURN)
			require.NotContains(t, stringsOf(p.Body["schemas"]), moqupsURN)
		})
	}
}

// TestDeclaredSubset: a host that keeps only what Entra ID maps stores and returns nothing else, refuses
// filters and sorting on the rest, ignores the rest in writes, and sees each ignored attribute's name (never
// its value) in RequestInfo and its log.
func TestDeclaredSubset(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind.name, func(t *testing.T) {
			var logs bytes.Buffer
			var mu sync.Mutex
			var ignored [][]string
			store := kind.open(t)
			s := serveStoreAt(t, store, scim.WithPasswords(scim.PasswordsHashed), scim.WithUserSchema(entraOnly),
				scim.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))),
				scim.WithMetrics(func(i scim.RequestInfo) {
					mu.Lock()
					defer mu.Unlock()
					ignored = append(ignored, i.Ignored)
				}))

			r := s.do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
				"externalId":"0a21f0f2","userName":"Test_User@contoso.com","active":"True","displayName":"Test User",
				"title":"Secret-Title-Value","password":"Secret-Pw-Value",
				"emails":[{"primary":true,"type":"work","value":"Test_User@contoso.com"}],
				"name":{"formatted":"Test User","familyName":"Secret-Family-Value","givenName":"Test"},
				"phoneNumbers":[{"type":"work","value":"+1 555"}],
				"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Secret-Dept-Value"},
				"urn:ietf:params:scim:schemas:extension:Other:2.0:User":{"tag":"Secret-Tag-Value"}}`)
			require.Equal(t, 201, r.Status, "%s", r.Raw)
			id := r.Body["id"].(string)
			want := map[string]any{"userName": "Test_User@contoso.com", "active": true, "displayName": "Test User",
				"emails": []any{map[string]any{"primary": true, "type": "work", "value": "Test_User@contoso.com"}},
				"name":   map[string]any{"formatted": "Test User"}}
			require.Equal(t, want, without(r.Body, "id", "meta", "schemas"))
			require.Equal(t, want, without(s.get(id), "id", "meta", "schemas"))
			u, err := store.Get(single(), id)
			require.NoError(t, err)
			require.Empty(t, u.Title)
			require.Empty(t, u.ExternalID)
			require.Nil(t, u.Enterprise)
			require.Empty(t, u.PhoneNumbers)
			require.Empty(t, u.Extensions)
			require.Equal(t, &scim.Name{Formatted: "Test User"}, u.Name)

			mu.Lock()
			require.ElementsMatch(t, []string{"externalId", "title", "password", "phoneNumbers", "name.familyName", "name.givenName",
				"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "urn:ietf:params:scim:schemas:extension:Other:2.0:User"}, ignored[0])
			mu.Unlock()
			require.Contains(t, logs.String(), `"title"`)
			require.NotContains(t, logs.String(), "Secret-")

			// Discovery describes only what is kept.
			core := s.do("GET", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", "")
			var names []string
			for _, a := range core.Body["attributes"].([]any) {
				names = append(names, a.(map[string]any)["name"].(string))
			}
			// groups too, undeclared: computed from the GroupStore, it is part of User when the Store keeps groups.
			require.Equal(t, []string{"userName", "name", "displayName", "active", "emails", "groups"}, names)
			requireError(t, s.do("GET", "/Schemas/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", ""), 404, "")

			// Queries on undeclared attributes are refused; writes to them are ignored.
			requireError(t, s.do("GET", "/Users?filter="+url.QueryEscape(`title eq "x"`), ""), 400, "invalidFilter")
			requireError(t, s.do("GET", "/Users?filter="+url.QueryEscape(`name.givenName eq "x"`), ""), 400, "invalidFilter")
			requireError(t, s.do("GET", "/Users?sortBy=title", ""), 400, "invalidValue")
			before := s.do("GET", "/Users/"+id, "")
			p := s.patch(id, `{"op":"Replace","path":"title","value":"T"}`, `{"op":"Add","path":"name.givenName","value":"G"}`,
				`{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"D"}`)
			require.Equal(t, 200, p.Status, "%s", p.Raw)
			require.Equal(t, before.Header.Get("ETag"), p.Header.Get("ETag"), "nothing was written")
			requireError(t, s.patch(id, `{"op":"replace","path":"noSuchAttribute","value":"x"}`), 400, "invalidPath")

			// Entra's whole lifecycle still works on the five attributes.
			p = s.patch(id, `{"op":"Replace","path":"emails[type eq \"work\"].value","value":"new@contoso.com"}`,
				`{"op":"Replace","path":"name.formatted","value":"New Name"}`, `{"op":"Replace","path":"active","value":"False"}`)
			require.Equal(t, 200, p.Status, "%s", p.Raw)
			require.Equal(t, []string{"Test_User@contoso.com"}, s.filter(`emails[type eq "work"].value eq "new@contoso.com"`))
			require.Equal(t, false, s.get(id)["active"])
			require.Equal(t, 204, s.do("DELETE", "/Users/"+id, "").Status)
		})
	}
}

// TestDeclareUserRefusesMistakes: declaration mistakes are reported when the schema is built.
func TestDeclareUserRefusesMistakes(t *testing.T) {
	for name, d := range map[string]schema.UserDeclaration{
		"unknown core attribute": {Attributes: []string{"userName", "favouriteColour"}},
		"extension without URN":  {Extensions: []*schema.Schema{{ID: "MyApp", Attributes: moqups.Attributes}}},
		"attribute without type": {Extensions: []*schema.Schema{{ID: moqupsURN, Attributes: []*schema.Attribute{{Name: "x"}}}}},
		"duplicate attribute": {Extensions: []*schema.Schema{{ID: moqupsURN, Attributes: []*schema.Attribute{
			{Name: "x", Type: schema.String}, {Name: "X", Type: schema.String}}}}},
		"extension over enterprise": {Extensions: []*schema.Schema{{ID: schema.EnterpriseUserURN, Attributes: moqups.Attributes}}},
		"nested complex": {Extensions: []*schema.Schema{{ID: moqupsURN, Attributes: []*schema.Attribute{{Name: "c", Type: schema.Complex,
			SubAttributes: []*schema.Attribute{{Name: "d", Type: schema.Complex, SubAttributes: []*schema.Attribute{{Name: "e", Type: schema.String}}}}}}}}},
		"bad mutability": {Extensions: []*schema.Schema{{ID: moqupsURN, Attributes: []*schema.Attribute{{Name: "x", Type: schema.String, Mutability: "sometimes"}}}}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := schema.DeclareUser(d)
			require.Error(t, err)
		})
	}
}

// TestDeclarationShrank: a user a Store kept from before the declaration shrank shows nothing undeclared, and
// loses it at its next write.
func TestDeclarationShrank(t *testing.T) {
	store := memstore.New()
	old := &scim.User{ID: "u1", UserName: "old@contoso.com", Title: "Kept-Before", Name: &scim.Name{Formatted: "Old", GivenName: "Kept-Before"},
		Extensions: map[string]scim.Attributes{"urn:example:Gone:2.0:User": {"x": "Kept-Before"}}}
	_, err := store.Create(scim.ContextWithTenant(context.Background(), ""), old)
	require.NoError(t, err)
	s := serveStoreAt(t, store, scim.WithPasswords(scim.PasswordsHashed), scim.WithUserSchema(entraOnly))
	got := s.do("GET", "/Users/u1", "")
	require.Equal(t, 200, got.Status, "%s", got.Raw)
	require.NotContains(t, string(got.Raw), "Kept-Before")
	require.Equal(t, []any{"urn:ietf:params:scim:schemas:core:2.0:User"}, got.Body["schemas"])
	require.Equal(t, 200, s.patch("u1", `{"op":"replace","path":"displayName","value":"Old"}`).Status)
	u, err := store.Get(scim.ContextWithTenant(context.Background(), ""), "u1")
	require.NoError(t, err)
	require.Empty(t, u.Title)
	require.Equal(t, &scim.Name{Formatted: "Old"}, u.Name)
	require.Empty(t, u.Extensions)
}

// TestDeclaredExtensionUpperCaseURN: an extension declared as "URN:…" is kept like any other (URNs compare
// without case).
func TestDeclaredExtensionUpperCaseURN(t *testing.T) {
	rt := schema.MustDeclareUser(schema.UserDeclaration{Extensions: []*schema.Schema{{ID: "URN:acme:ext:User",
		Attributes: []*schema.Attribute{{Name: "tag", Type: schema.String}}}}})
	s := serveStoreAt(t, memstore.New(), scim.WithPasswords(scim.PasswordsHashed), scim.WithUserSchema(rt))
	r := s.do("POST", "/Users", `{"userName":"u1","URN:acme:ext:User":{"tag":"T"}}`)
	require.Equal(t, 201, r.Status, "%s", r.Raw)
	id := r.Body["id"].(string)
	require.Equal(t, map[string]any{"tag": "T"}, s.get(id)["URN:acme:ext:User"])
	p := s.patch(id, `{"op":"replace","path":"urn:acme:ext:User:tag","value":"U"}`)
	require.Equal(t, 200, p.Status, "%s", p.Raw)
	require.Equal(t, map[string]any{"tag": "U"}, s.get(id)["URN:acme:ext:User"])
}
