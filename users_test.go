package scim_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
)

// fullUser sets every writable attribute of the core User schema and the enterprise extension.
const fullUser = `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
  "externalId": "ext-1",
  "userName": "bjensen@example.com",
  "name": {"formatted": "Ms. Barbara J Jensen, III", "familyName": "Jensen", "givenName": "Barbara",
           "middleName": "Jane", "honorificPrefix": "Ms.", "honorificSuffix": "III"},
  "displayName": "Babs Jensen",
  "nickName": "Babs",
  "profileUrl": "https://login.example.com/bjensen",
  "title": "Tour Guide",
  "userType": "Employee",
  "preferredLanguage": "en-US",
  "locale": "en-US",
  "timezone": "America/Los_Angeles",
  "active": true,
  "password": "t1meMa$heen",
  "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
             {"value": "babs@jensen.org", "type": "home"}],
  "phoneNumbers": [{"value": "555-555-5555", "type": "work"}],
  "ims": [{"value": "someaimhandle", "type": "aim"}],
  "photos": [{"value": "https://photos.example.com/profilephoto/72930000000Ccne/F", "type": "photo"}],
  "addresses": [{"type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood",
                 "region": "CA", "postalCode": "91608", "country": "USA", "formatted": "100 Universal City Plaza", "primary": true}],
  "entitlements": [{"value": "delete-users"}],
  "roles": [{"value": "admin", "display": "Administrator"}],
  "x509Certificates": [{"value": "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAwTjELMAkGA1UEBhMCVVMx"}],
  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
    "employeeNumber": "701984", "costCenter": "4130", "organization": "Universal Studios",
    "division": "Theme Park", "department": "Tour Operations",
    "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}
  }
}`

func TestCreate(t *testing.T) {
	s := newTestServer(t, scim.WithPasswords(scim.PasswordsIgnored)) // the RFC's example carries a password
	r := s.do("POST", "/Users", fullUser)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Raw)
	u := r.Body
	id, _ := u["id"].(string)
	require.NotEmpty(t, id)

	// Location is absolute and is meta.location; the ETag is meta.version.
	meta := u["meta"].(map[string]any)
	require.Equal(t, s.URL+"/Users/"+id, r.Header.Get("Location"))
	require.Equal(t, r.Header.Get("Location"), meta["location"])
	require.NotEmpty(t, r.Header.Get("ETag"))
	require.Equal(t, r.Header.Get("ETag"), meta["version"])
	require.Equal(t, "User", meta["resourceType"])
	created, err := time.Parse(time.RFC3339Nano, meta["created"].(string))
	require.NoError(t, err)
	require.WithinDuration(t, time.Now(), created, time.Minute)
	require.Equal(t, meta["created"], meta["lastModified"])

	// Everything sent comes back as sent, except the password.
	var want map[string]any
	require.NoError(t, json.Unmarshal([]byte(fullUser), &want))
	delete(want, "password")
	got := maps(u)
	delete(got, "id")
	delete(got, "meta")
	require.Equal(t, want, got)

	// GET answers the same.
	g := s.do("GET", "/Users/"+id, "")
	require.Equal(t, u, g.Body)
	require.Equal(t, r.Header.Get("ETag"), g.Header.Get("ETag"))

	// A second user has another id.
	require.NotEqual(t, id, s.createUser("other@example.com"))
}

// maps returns a shallow copy of m.
func maps(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func TestCreateTolerances(t *testing.T) {
	s := newTestServer(t)
	u := s.create(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0User"],
		"id":"client-chosen","meta":{"created":"2001-01-01T00:00:00Z","version":"W/\"99\""},
		"groups":[{"value":"g1"}],
		"USERNAME":"tolerant@example.com","Active":"False","unknown":{"deep":[1,2]},"nickName":null,"title":"",
		"emails":[{"value":"t@example.com","type":"work","primary":"True"}],"phoneNumbers":[],
		"name.givenName":"Given",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":"boss-id","department":"Sales","costCenter":null}}`)
	require.NotEqual(t, "client-chosen", u["id"], "id is readOnly: assigned by the server")
	meta := u["meta"].(map[string]any)
	require.NotEqual(t, "2001-01-01T00:00:00Z", meta["created"], "meta is readOnly")
	require.NotContains(t, u, "groups", "groups is readOnly")
	require.Equal(t, "tolerant@example.com", u["userName"], "attribute names without case")
	require.Equal(t, false, u["active"], "string booleans become booleans")
	require.Equal(t, true, u["emails"].([]any)[0].(map[string]any)["primary"])
	require.NotContains(t, u, "unknown")
	require.NotContains(t, u, "nickName")
	require.NotContains(t, u, "title")
	require.NotContains(t, u, "phoneNumbers")
	require.Equal(t, map[string]any{"givenName": "Given"}, u["name"], "a dotted key is a path")
	require.Equal(t, map[string]any{"manager": map[string]any{"value": "boss-id"}, "department": "Sales"}, u[enterpriseNS],
		"a bare manager id is its value")
	require.Equal(t, []any{userURN, enterpriseNS}, u["schemas"])
}

func TestCreateInvalid(t *testing.T) {
	s := newTestServer(t)
	tests := []struct {
		name, body, scimType string
	}{
		{"no userName", `{"displayName":"x"}`, "invalidValue"},
		{"empty userName", `{"userName":""}`, "invalidValue"},
		{"null userName", `{"userName":null}`, "invalidValue"},
		{"userName an object", `{"userName":{"a":1}}`, "invalidValue"},
		{"active not a boolean", `{"userName":"a","active":"yes"}`, "invalidValue"},
		{"emails not objects", `{"userName":"a","emails":[1]}`, "invalidValue"},
		{"two primary emails", `{"userName":"a","emails":[{"value":"a@x","primary":true},{"value":"b@x","primary":true}]}`, "invalidValue"},
		{"malformed JSON", `{"userName":"a",}`, "invalidSyntax"},
		{"truncated JSON", `{"userName":"a"`, "invalidSyntax"},
		{"array", `[{"userName":"a"}]`, "invalidSyntax"},
		{"string", `"a"`, "invalidSyntax"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireError(t, s.do("POST", "/Users", tt.body), http.StatusBadRequest, tt.scimType)
		})
	}
	require.Equal(t, 0.0, s.do("GET", "/Users", "").Body["totalResults"])
}

func TestCreateUniqueness(t *testing.T) {
	s := newTestServer(t)
	id := s.createUser("Unique@Example.com")
	for _, name := range []string{"Unique@Example.com", "unique@example.com", "UNIQUE@EXAMPLE.COM"} {
		requireError(t, s.do("POST", "/Users", `{"userName":"`+name+`"}`), http.StatusConflict, "uniqueness")
	}
	require.Equal(t, 1.0, s.do("GET", "/Users", "").Body["totalResults"])
	// Renaming another user onto it is a conflict too.
	other := s.createUser("other@example.com")
	requireError(t, s.do("PUT", "/Users/"+other, `{"userName":"UNIQUE@example.com"}`), http.StatusConflict, "uniqueness")
	requireError(t, s.do("PATCH", "/Users/"+other, patchOp(`{"op":"replace","path":"userName","value":"unique@example.COM"}`)),
		http.StatusConflict, "uniqueness")
	require.Equal(t, "other@example.com", s.get(other)["userName"])
	// A user may change the case of its own userName.
	r := s.do("PUT", "/Users/"+id, `{"userName":"UNIQUE@example.com"}`)
	require.Equal(t, 200, r.Status, "%s", r.Raw)
	require.Equal(t, "UNIQUE@example.com", r.Body["userName"])
	// Once deleted, the userName is free again.
	require.Equal(t, 204, s.do("DELETE", "/Users/"+id, "").Status)
	s.createUser("unique@example.com")
}

func TestGet(t *testing.T) {
	s := newTestServer(t)
	id := s.createUser("get@example.com")
	r := s.do("GET", "/Users/"+id, "")
	require.Equal(t, 200, r.Status)
	require.Equal(t, id, r.Body["id"])
	require.Equal(t, []any{userURN}, r.Body["schemas"])
	require.Equal(t, r.Header.Get("ETag"), r.Body["meta"].(map[string]any)["version"])

	for _, missing := range []string{"nope", "00000000-0000-4000-8000-000000000000", strings.ToUpper(id)} {
		requireError(t, s.do("GET", "/Users/"+missing, ""), http.StatusNotFound, "")
		requireError(t, s.do("PUT", "/Users/"+missing, `{"userName":"x"}`), http.StatusNotFound, "")
		requireError(t, s.do("PATCH", "/Users/"+missing, patchOp(`{"op":"add","path":"title","value":"x"}`)), http.StatusNotFound, "")
		requireError(t, s.do("DELETE", "/Users/"+missing, ""), http.StatusNotFound, "")
	}
}

func TestDelete(t *testing.T) {
	s := newTestServer(t)
	id := s.createUser("del@example.com")
	keep := s.createUser("keep@example.com")
	r := s.do("DELETE", "/Users/"+id, "")
	require.Equal(t, http.StatusNoContent, r.Status)
	require.Empty(t, r.Raw)
	requireError(t, s.do("GET", "/Users/"+id, ""), 404, "")
	requireError(t, s.do("DELETE", "/Users/"+id, ""), 404, "")
	require.Equal(t, 0.0, s.do("GET", `/Users?filter=userName+eq+"del@example.com"`, "").Body["totalResults"])
	require.Equal(t, []string{"keep@example.com"}, userNames(t, s.do("GET", "/Users", "").Body))
	require.Equal(t, keep, s.get(keep)["id"])
}

// --- ETags ---

func TestETags(t *testing.T) {
	s := newTestServer(t)
	r := s.do("POST", "/Users", `{"userName":"etag@example.com"}`)
	id, v1 := r.Body["id"].(string), r.Header.Get("ETag")
	require.True(t, strings.HasPrefix(v1, `W/"`) || strings.HasPrefix(v1, `"`), v1)

	// If-None-Match: 304 when current (no body, the ETag repeated), 200 otherwise.
	for _, inm := range []string{v1, "*", `"other", ` + v1, strings.TrimPrefix(v1, "W/")} {
		nm := s.do("GET", "/Users/"+id, "", "If-None-Match", inm)
		require.Equal(t, http.StatusNotModified, nm.Status, inm)
		require.Empty(t, nm.Raw)
		require.Equal(t, v1, nm.Header.Get("ETag"))
	}
	require.Equal(t, 200, s.do("GET", "/Users/"+id, "", "If-None-Match", `W/"stale"`).Status)

	// Every write changes the version; a stale If-Match is 412 and changes nothing.
	writes := []struct{ method, body string }{
		{"PUT", `{"userName":"etag@example.com","title":"put"}`},
		{"PATCH", patchOp(`{"op":"replace","path":"title","value":"patch"}`)},
	}
	cur := v1
	for _, w := range writes {
		t.Run(w.method, func(t *testing.T) {
			before := s.get(id)
			requireError(t, s.do(w.method, "/Users/"+id, w.body, "If-Match", `W/"stale"`), http.StatusPreconditionFailed, "")
			require.Equal(t, before, s.get(id))
			if cur != v1 {
				requireError(t, s.do(w.method, "/Users/"+id, w.body, "If-Match", v1), http.StatusPreconditionFailed, "")
			}
			ok := s.do(w.method, "/Users/"+id, w.body, "If-Match", cur)
			require.Equal(t, 200, ok.Status, "%s", ok.Raw)
			require.NotEqual(t, cur, ok.Header.Get("ETag"))
			require.Equal(t, ok.Header.Get("ETag"), ok.Body["meta"].(map[string]any)["version"])
			require.Equal(t, ok.Header.Get("ETag"), s.do("GET", "/Users/"+id, "").Header.Get("ETag"))
			cur = ok.Header.Get("ETag")
			// "*" matches any current version.
			require.Equal(t, 200, s.do(w.method, "/Users/"+id, w.body, "If-Match", "*").Status)
		})
	}
	requireError(t, s.do("DELETE", "/Users/"+id, "", "If-Match", v1), http.StatusPreconditionFailed, "")
	require.Equal(t, 200, s.do("GET", "/Users/"+id, "").Status)
	require.Equal(t, 204, s.do("DELETE", "/Users/"+id, "", "If-Match", `W/"x", `+cur).Status)

	other := s.createUser("star@example.com")
	require.Equal(t, 204, s.do("DELETE", "/Users/"+other, "", "If-Match", "*").Status)
}

// --- PUT ---

func TestPut(t *testing.T) {
	clock := scim.NewTestClock(time.Now())
	s := newTestServer(t, scim.WithPasswords(scim.PasswordsHashed), scim.WithTestClock(clock.Now))
	orig := s.create(fullUser)
	id := orig["id"].(string)
	origMeta := orig["meta"].(map[string]any)
	clock.Advance(5 * time.Millisecond)

	r := s.do("PUT", "/Users/"+id, `{"id":"hijack","userName":"bjensen@example.com","displayName":"New Name",
		"active":"False","emails":[{"value":"new@example.com","type":"work"}],
		"meta":{"created":"2001-01-01T00:00:00Z","lastModified":"2001-01-01T00:00:00Z"},
		"groups":[{"value":"g1"}],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"New Dept"}}`)
	require.Equal(t, 200, r.Status, "%s", r.Raw)
	u := r.Body
	meta := u["meta"].(map[string]any)
	require.Equal(t, id, u["id"], "id is kept")
	require.Equal(t, origMeta["created"], meta["created"], "meta.created is kept")
	require.NotEqual(t, origMeta["lastModified"], meta["lastModified"])
	require.NotEqual(t, "2001-01-01T00:00:00Z", meta["lastModified"])
	require.NotEqual(t, origMeta["version"], meta["version"])
	require.Equal(t, r.Header.Get("ETag"), meta["version"])
	require.Equal(t, s.URL+"/Users/"+id, meta["location"])
	require.NotContains(t, u, "groups")
	require.NotContains(t, u, "password")

	// What was sent replaces everything else: attributes not sent are gone.
	got := maps(u)
	delete(got, "meta")
	require.Equal(t, map[string]any{
		"id": id, "schemas": []any{userURN, enterpriseNS}, "userName": "bjensen@example.com",
		"displayName": "New Name", "active": false,
		"emails":     []any{map[string]any{"value": "new@example.com", "type": "work"}},
		enterpriseNS: map[string]any{"department": "New Dept"},
	}, got)
	require.Equal(t, u, s.get(id))

	// The password, write-only, is kept when a PUT (built from a GET) does not send it, replaced when it does.
	stored, err := s.Store.Get(single(), id)
	require.NoError(t, err)
	require.True(t, scim.CheckPassword(stored.PasswordHash, "t1meMa$heen"))
	require.Equal(t, 200, s.do("PUT", "/Users/"+id, `{"userName":"bjensen@example.com","password":"n3w"}`).Status)
	stored, err = s.Store.Get(single(), id)
	require.NoError(t, err)
	require.True(t, scim.CheckPassword(stored.PasswordHash, "n3w"))
	require.False(t, scim.CheckPassword(stored.PasswordHash, "t1meMa$heen"))

	// PUT validates like POST.
	requireError(t, s.do("PUT", "/Users/"+id, `{"displayName":"no userName"}`), 400, "invalidValue")
	requireError(t, s.do("PUT", "/Users/"+id, `{"userName":`), 400, "invalidSyntax")

	// A PUT of what GET answered changes nothing, not even meta.
	cur := s.get(id)
	b, _ := json.Marshal(cur)
	same := s.do("PUT", "/Users/"+id, string(b))
	require.Equal(t, 200, same.Status)
	require.Equal(t, cur, same.Body)
}

// --- password ---

// TestPasswordPolicies: by default a password is refused with 400 mutability naming the policy (an identity
// provider's admin sees a failed push, where a 200 let Okta believe the password synced); PasswordsIgnored
// accepts and drops it, reported to the host; PasswordsHashed stores a bcrypt hash only.
func TestPasswordPolicies(t *testing.T) {
	t.Run("refused by default", func(t *testing.T) {
		for _, s := range []*testServer{newTestServer(t), newTestServer(t, scim.WithPasswords(scim.PasswordsRefused))} {
			r := s.do("POST", "/Users", `{"userName":"pw@example.com","password":"x"}`)
			requireError(t, r, 400, "mutability")
			require.Contains(t, r.Body["detail"], "password policy: refused")
			id := s.do("POST", "/Users", `{"userName":"pw@example.com"}`).Body["id"].(string)
			for _, op := range []string{`{"op":"replace","path":"password","value":"x"}`, `{"op":"add","value":{"password":"x"}}`} {
				requireError(t, s.do("PATCH", "/Users/"+id, patchOp(op)), 400, "mutability")
			}
			requireError(t, s.do("PUT", "/Users/"+id, `{"userName":"pw@example.com","password":"x"}`), 400, "mutability")
			// Unassigning the password asks nothing that cannot be done.
			require.Equal(t, 200, s.do("PATCH", "/Users/"+id, patchOp(`{"op":"remove","path":"password"}`)).Status)
			require.Equal(t, 200, s.do("PUT", "/Users/"+id, `{"userName":"pw@example.com","password":""}`).Status)
			require.Equal(t, false, s.do("GET", "/ServiceProviderConfig", "").Body["changePassword"].(map[string]any)["supported"])
			// Not advertised either: discovery offers no attribute that writes are then refused for.
			require.NotContains(t, string(s.do("GET", "/Schemas/"+userURN, "").Raw), `"password"`)
		}
	})
	t.Run("ignored", func(t *testing.T) {
		var logs bytes.Buffer
		var infos []scim.RequestInfo
		s := newTestServer(t, scim.WithPasswords(scim.PasswordsIgnored), scim.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))),
			scim.WithMetrics(func(i scim.RequestInfo) { infos = append(infos, i) }))
		r := s.do("POST", "/Users", `{"userName":"pw@example.com","password":"Sup3rS3cret!"}`)
		require.Equal(t, 201, r.Status, "%s", r.Raw)
		id := r.Body["id"].(string)
		require.Equal(t, 200, s.do("PATCH", "/Users/"+id, patchOp(`{"op":"replace","path":"password","value":"Sup3rS3cret!2"}`)).Status)
		stored, err := s.Store.Get(single(), id)
		require.NoError(t, err)
		require.Empty(t, stored.PasswordHash)
		require.Equal(t, []string{"password"}, infos[0].Ignored, "the host sees the ignored attribute")
		require.Contains(t, logs.String(), `"attributes":["password"]`)
		require.NotContains(t, logs.String(), "Sup3rS3cret")
		spc := s.do("GET", "/ServiceProviderConfig", "")
		require.Equal(t, false, spc.Body["changePassword"].(map[string]any)["supported"])
		require.NotContains(t, string(s.do("GET", "/Schemas/"+userURN, "").Raw), `"password"`)
	})
	t.Run("hashed", func(t *testing.T) {
		s := newTestServer(t, scim.WithPasswords(scim.PasswordsHashed))
		id := s.do("POST", "/Users", `{"userName":"pw@example.com","password":"Sup3rS3cret!"}`).Body["id"].(string)
		stored, err := s.Store.Get(single(), id)
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(stored.PasswordHash, "$2a$"), "bcrypt")
		require.True(t, scim.CheckPassword(stored.PasswordHash, "Sup3rS3cret!"))
		require.False(t, scim.CheckPassword(stored.PasswordHash, "sup3rs3cret!"))
		requireError(t, s.do("PATCH", "/Users/"+id, patchOp(`{"op":"replace","path":"password","value":"`+strings.Repeat("x", 73)+`"}`)), 400, "invalidValue")
		// A PATCH that unassigns the password clears the hash (RFC 7644 §3.5.2.2), in each of the ways it can.
		for _, op := range []string{`{"op":"remove","path":"password"}`, `{"op":"replace","path":"password","value":""}`,
			`{"op":"replace","path":"password","value":null}`, `{"op":"replace","value":{"password":null,"displayName":"P"}}`} {
			require.Equal(t, 200, s.do("PATCH", "/Users/"+id, patchOp(`{"op":"replace","path":"password","value":"Again!"}`)).Status)
			require.Equal(t, 200, s.do("PATCH", "/Users/"+id, patchOp(op)).Status, op)
			stored, err := s.Store.Get(single(), id)
			require.NoError(t, err)
			require.Empty(t, stored.PasswordHash, op)
			require.False(t, scim.CheckPassword(stored.PasswordHash, "Again!"), op)
		}
		// ...and one that leaves it alone keeps it.
		require.Equal(t, 200, s.do("PATCH", "/Users/"+id, patchOp(`{"op":"replace","path":"password","value":"Kept!"}`)).Status)
		require.Equal(t, 200, s.do("PATCH", "/Users/"+id, patchOp(`{"op":"replace","path":"displayName","value":"Q"}`)).Status)
		stored, err = s.Store.Get(single(), id)
		require.NoError(t, err)
		require.True(t, scim.CheckPassword(stored.PasswordHash, "Kept!"))
		require.Equal(t, true, s.do("GET", "/ServiceProviderConfig", "").Body["changePassword"].(map[string]any)["supported"])
		require.Contains(t, string(s.do("GET", "/Schemas/"+userURN, "").Raw), `"password"`)
	})
}

// TestPasswordNotFilterable: filtering or sorting on a "returned: never" attribute would reveal it one
// guess at a time (password eq "guess"), so both are refused.
func TestPasswordNotFilterable(t *testing.T) {
	s := newTestServer(t, scim.WithPasswords(scim.PasswordsHashed))
	s.create(`{"userName":"pw@example.com","password":"s3cret"}`)
	for _, f := range []string{`password eq "s3cret"`, `password pr`, `password sw "s"`, `not (password eq "x")`,
		`userName pr and (title pr or PASSWORD co "3")`, `urn:ietf:params:scim:schemas:core:2.0:User:password ne "x"`} {
		requireError(t, s.do("GET", "/Users?filter="+url.QueryEscape(f), ""), 400, "invalidFilter")
		b, _ := json.Marshal(map[string]any{"filter": f})
		requireError(t, s.do("POST", "/Users/.search", string(b)), 400, "invalidFilter")
	}
	requireError(t, s.do("GET", "/Users?sortBy=password", ""), 400, "invalidValue")
}

// --- projection ---

func TestProjection(t *testing.T) {
	tests := []struct {
		query string
		want  func(t *testing.T, u map[string]any)
	}{
		{"attributes=userName", func(t *testing.T, u map[string]any) {
			require.ElementsMatch(t, []string{"schemas", "id", "userName"}, keys(u))
		}},
		{"attributes=USERNAME,displayName", func(t *testing.T, u map[string]any) {
			require.ElementsMatch(t, []string{"schemas", "id", "userName", "displayName"}, keys(u))
		}},
		{"attributes=id", func(t *testing.T, u map[string]any) {
			require.ElementsMatch(t, []string{"schemas", "id"}, keys(u))
		}},
		{"attributes=name.givenName,emails.value", func(t *testing.T, u map[string]any) {
			require.ElementsMatch(t, []string{"schemas", "id", "name", "emails"}, keys(u))
			require.Equal(t, map[string]any{"givenName": "Barbara"}, u["name"])
			require.Equal(t, []any{map[string]any{"value": "bjensen@example.com"}, map[string]any{"value": "babs@jensen.org"}}, u["emails"])
		}},
		{"attributes=" + userURN + ":name.familyName", func(t *testing.T, u map[string]any) {
			require.ElementsMatch(t, []string{"schemas", "id", "name"}, keys(u))
			require.Equal(t, map[string]any{"familyName": "Jensen"}, u["name"])
		}},
		{"attributes=" + enterpriseNS + ":employeeNumber", func(t *testing.T, u map[string]any) {
			require.ElementsMatch(t, []string{"schemas", "id", enterpriseNS}, keys(u))
			require.Equal(t, map[string]any{"employeeNumber": "701984"}, u[enterpriseNS])
		}},
		{"attributes=" + enterpriseNS, func(t *testing.T, u map[string]any) {
			require.ElementsMatch(t, []string{"schemas", "id", enterpriseNS}, keys(u))
			require.Len(t, u[enterpriseNS], 6)
		}},
		{"attributes=meta.created", func(t *testing.T, u map[string]any) {
			require.ElementsMatch(t, []string{"schemas", "id", "meta"}, keys(u))
			require.ElementsMatch(t, []string{"created"}, keys(u["meta"].(map[string]any)))
		}},
		{"attributes=userName,noSuchThing", func(t *testing.T, u map[string]any) {
			require.ElementsMatch(t, []string{"schemas", "id", "userName"}, keys(u)) // unknown names are ignored
		}},
		{"excludedAttributes=emails,name", func(t *testing.T, u map[string]any) {
			require.NotContains(t, u, "emails")
			require.NotContains(t, u, "name")
			for _, k := range []string{"schemas", "id", "userName", "displayName", "meta", enterpriseNS, "phoneNumbers"} {
				require.Contains(t, u, k)
			}
		}},
		{"excludedAttributes=id,schemas,userName", func(t *testing.T, u map[string]any) {
			require.Contains(t, u, "id", "id is returned always")
			require.Contains(t, u, "schemas")
			require.NotContains(t, u, "userName")
		}},
		{"excludedAttributes=name.givenName", func(t *testing.T, u map[string]any) {
			require.NotContains(t, u["name"], "givenName")
			require.Contains(t, u["name"], "familyName")
		}},
		{"excludedAttributes=" + enterpriseNS, func(t *testing.T, u map[string]any) {
			require.NotContains(t, u, enterpriseNS)
			require.Contains(t, u, "userName")
		}},
		{"excludedAttributes=meta", func(t *testing.T, u map[string]any) {
			require.NotContains(t, u, "meta")
		}},
		{"attributes=&excludedAttributes=", func(t *testing.T, u map[string]any) {
			require.Contains(t, u, "meta")
			require.Contains(t, u, "emails")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			s := newTestServer(t, scim.WithPasswords(scim.PasswordsHashed)) // the RFC's example carries a password
			created := s.do("POST", "/Users?"+tt.query, fullUser)
			require.Equal(t, 201, created.Status)
			id := created.Body["id"].(string)
			check := func(what string, u map[string]any) {
				t.Helper()
				require.Equal(t, id, u["id"], what)
				require.NotEmpty(t, u["schemas"], what)
				require.NotContains(t, u, "password", what)
				tt.want(t, u)
			}
			check("POST", created.Body)
			check("GET", s.do("GET", "/Users/"+id+"?"+tt.query, "").Body)
			check("list", resources(t, s.do("GET", "/Users?"+tt.query, "").Body)[0])
			check("filtered list", resources(t, s.do("GET", "/Users?filter=userName+pr&"+tt.query, "").Body)[0])
			put := s.do("PUT", "/Users/"+id+"?"+tt.query, fullUser)
			require.Equal(t, 200, put.Status)
			check("PUT", put.Body)
			patch := s.do("PATCH", "/Users/"+id+"?"+tt.query, patchOp(`{"op":"replace","path":"title","value":"New"}`))
			require.Equal(t, 200, patch.Status)
			check("PATCH", patch.Body)

			// .search takes the lists in its body.
			q, err := url.ParseQuery(tt.query)
			require.NoError(t, err)
			req := map[string]any{}
			for _, k := range []string{"attributes", "excludedAttributes"} {
				if v := q.Get(k); v != "" {
					req[k] = strings.Split(v, ",")
				}
			}
			b, _ := json.Marshal(req)
			check("search", resources(t, s.do("POST", "/Users/.search", string(b)).Body)[0])
		})
	}
}

// --- lists: filters ---

// seedUsers creates a small, varied population to filter, sort and page.
func seedUsers(t *testing.T, s *testServer) {
	t.Helper()
	for _, u := range []string{
		`{"userName":"alice@example.com","externalId":"A-1","displayName":"Alice","title":"Engineer","active":true,
		  "name":{"givenName":"Alice","familyName":"Zephyr"},
		  "emails":[{"value":"alice@work.example","type":"work","primary":true},{"value":"alice@home.example","type":"home"}],
		  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"100","department":"R&D","manager":{"value":"boss"}}}`,
		`{"userName":"Bob@Example.com","externalId":"b-2","displayName":"Bob","title":"Manager","active":false,
		  "name":{"givenName":"Bob","familyName":"young"},
		  "emails":[{"value":"bob@work.example","type":"work"}],
		  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"200","department":"Sales"}}`,
		`{"userName":"carol+test@example.org","displayName":"Carol \"CJ\" Jones","active":true,
		  "name":{"givenName":"Carol","familyName":"Xavier"},
		  "emails":[{"value":"carol@home.example","type":"home","primary":true}]}`,
		`{"userName":"dave@example.net","nickName":"D","title":"engineer",
		  "phoneNumbers":[{"value":"+1 555 0100","type":"mobile"}]}`,
	} {
		s.create(u)
	}
}

func TestFilters(t *testing.T) {
	s := newTestServer(t)
	seedUsers(t, s)
	const (
		alice = "alice@example.com"
		bob   = "Bob@Example.com"
		carol = "carol+test@example.org"
		dave  = "dave@example.net"
	)
	now := time.Now().UTC().Add(time.Minute).Format(time.RFC3339)
	tests := []struct {
		filter string
		want   []string
	}{
		// every comparison operator
		{`userName eq "alice@example.com"`, []string{alice}},
		{`userName eq "ALICE@EXAMPLE.COM"`, []string{alice}},
		{`userName eq "bob@example.com"`, []string{bob}},
		{`userName ne "alice@example.com"`, []string{bob, carol, dave}},
		{`userName co "example.com"`, []string{alice, bob}},
		{`userName co "EXAMPLE"`, []string{alice, bob, carol, dave}},
		{`userName sw "B"`, []string{bob}},
		{`userName ew ".org"`, []string{carol}},
		{`userName gt "bob@example.com"`, []string{carol, dave}},
		{`userName ge "bob@example.com"`, []string{bob, carol, dave}},
		{`userName lt "bob@example.com"`, []string{alice}},
		{`userName le "BOB@example.com"`, []string{alice, bob}},
		{`title pr`, []string{alice, bob, dave}},
		{`nickName pr`, []string{dave}},
		{`emails pr`, []string{alice, bob, carol}},
		{`title eq null`, []string{carol}},
		{`title eq "engineer"`, []string{alice, dave}},
		{`externalId eq "A-1"`, []string{alice}},
		{`externalId eq "a-1"`, []string{}}, // externalId is caseExact
		{`externalId eq "b-2"`, []string{bob}},
		{`id pr`, []string{alice, bob, carol, dave}},
		// booleans
		{`active eq true`, []string{alice, carol}},
		{`active eq false`, []string{bob}},
		{`active ne true`, []string{bob, dave}},
		{`active eq "False"`, []string{bob}},
		// dates
		{`meta.created lt "` + now + `"`, []string{alice, bob, carol, dave}},
		{`meta.created gt "` + now + `"`, []string{}},
		{`meta.lastModified ge "2000-01-01T00:00:00Z"`, []string{alice, bob, carol, dave}},
		// sub-attributes, complex attributes by their value, names without case
		{`name.familyName eq "Zephyr"`, []string{alice}},
		{`NAME.FAMILYNAME eq "zephyr"`, []string{alice}},
		{`UserName Eq "dave@example.net"`, []string{dave}},
		{`emails.value ew "work.example"`, []string{alice, bob}},
		{`emails co "home"`, []string{alice, carol}},
		{`emails.type eq "work"`, []string{alice, bob}},
		{`phoneNumbers.value co "555"`, []string{dave}},
		// logical operators and grouping
		{`title eq "Engineer" and active eq true`, []string{alice}},
		{`userName eq "alice@example.com" and active eq false`, []string{}},
		{`userName eq "alice@example.com" or userName eq "dave@example.net"`, []string{alice, dave}},
		{`not (active eq true)`, []string{bob, dave}},
		{`not(title pr)`, []string{carol}},
		{`(title eq "Manager" or nickName pr) and not (active eq false)`, []string{dave}},
		{`title eq "Manager" or (nickName pr and active eq false)`, []string{bob}},
		{`userName sw "a" or userName sw "b" or userName sw "c"`, []string{alice, bob, carol}},
		{`userName sw "a" and title pr and active eq true and emails pr`, []string{alice}},
		// value paths
		{`emails[type eq "work"]`, []string{alice, bob}},
		{`emails[type eq "work" and primary eq true]`, []string{alice}},
		{`emails[type eq "home" and primary eq true]`, []string{carol}},
		{`emails[type eq "work" or (type eq "home" and value sw "carol")]`, []string{alice, bob, carol}},
		{`emails[type eq "work" and value co "bob" and primary eq false]`, []string{}},
		{`emails[value ew "home.example"] and active eq true`, []string{alice, carol}},
		{`emails[ type eq "home" ]`, []string{alice, carol}},
		// URN-qualified names
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bob@example.com"`, []string{bob}},
		{`urn:ietf:params:scim:schemas:core:2.0:User:name.givenName sw "C"`, []string{carol}},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "200"`, []string{bob}},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "r&d"`, []string{alice}},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "boss"`, []string{alice}},
		{`URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:EMPLOYEENUMBER pr`, []string{alice, bob}},
		// literals with quotes, escapes and surrounding spaces
		{`displayName eq "Carol \"CJ\" Jones"`, []string{carol}},
		{`displayName eq "\u0041lice"`, []string{alice}},
		{`  userName eq "dave@example.net"  `, []string{dave}},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			r := s.do("GET", "/Users?filter="+url.QueryEscape(tt.filter), "")
			require.Equal(t, 200, r.Status, "%s", r.Raw)
			require.Equal(t, tt.want, userNames(t, r.Body))
			require.Equal(t, float64(len(tt.want)), r.Body["totalResults"])
			require.Equal(t, float64(len(tt.want)), r.Body["itemsPerPage"])

			b, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"}, "filter": tt.filter})
			sr := s.do("POST", "/Users/.search", string(b))
			require.Equal(t, 200, sr.Status, "%s", sr.Raw)
			require.Equal(t, tt.want, userNames(t, sr.Body), ".search")
		})
	}
}

// TestFilterEncodings: clients encode spaces as '+' or %20 and quotes raw or as %22; values hold '@', '+'
// (then %2B) and '.'.
func TestFilterEncodings(t *testing.T) {
	s := newTestServer(t)
	seedUsers(t, s)
	tests := []struct {
		rawQuery string
		want     []string
	}{
		{`filter=userName+eq+"alice@example.com"`, []string{"alice@example.com"}},
		{`filter=userName%20eq%20%22alice@example.com%22`, []string{"alice@example.com"}},
		{`filter=userName+eq+%22alice%40example.com%22`, []string{"alice@example.com"}},
		{`filter=userName%20eq%20"carol%2Btest@example.org"`, []string{"carol+test@example.org"}},
		{`filter=userName+eq+%22carol%2Btest%40example.org%22`, []string{"carol+test@example.org"}},
		{`filter=userName+eq+"carol+test@example.org"`, []string{}}, // '+' is a space: "carol test@..."
		{`filter=emails%5Btype+eq+%22work%22%5D&sortBy=userName`, []string{"alice@example.com", "Bob@Example.com"}},
		{`filter=emails[type%20eq%20"work"]&sortBy=userName`, []string{"alice@example.com", "Bob@Example.com"}},
		{`filter=userName+eq+"alice@example.com"+and+active+eq+true`, []string{"alice@example.com"}},
		{`filter=urn%3Aietf%3Aparams%3Ascim%3Aschemas%3Acore%3A2.0%3AUser%3AuserName+eq+%22dave%40example.net%22`, []string{"dave@example.net"}},
		{`aadOptscim062020&filter=userName+eq+"dave@example.net"`, []string{"dave@example.net"}},
	}
	for _, tt := range tests {
		t.Run(tt.rawQuery, func(t *testing.T) {
			r := s.do("GET", "/Users?"+tt.rawQuery, "")
			require.Equal(t, 200, r.Status, "%s", r.Raw)
			require.Equal(t, tt.want, userNames(t, r.Body))
		})
	}
}

func TestInvalidFilters(t *testing.T) {
	s := newTestServer(t)
	seedUsers(t, s)
	for _, f := range []string{
		`userName`,
		`userName eq`,
		`userName eq alice`,
		`userName xx "a"`,
		`userName equals "a"`,
		`noSuchAttribute eq "a"`,
		`name.noSuchSub eq "a"`,
		`urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq "a"`,
		`userName eq "unterminated`,
		`(userName eq "a"`,
		`userName eq "a")`,
		`userName eq "a" and`,
		`and userName eq "a"`,
		`not userName eq "a"`,
		`emails[type eq "work"`,
		`emails[type eq "work"]]`,
		`emails[]`,
		`emails[noSuchSub eq "x"]`,
		`emails[type eq "work"][value pr]`,
		`userName[value eq "a"]`,
		`active gt true`,
		`active eq "maybe"`,
		`active co "t"`,
		`userName gt 5`,
		`meta.created gt "yesterday"`,
		`name eq "x"`,
		`userName eq "a" or`,
		strings.Repeat("(", 40) + `userName pr` + strings.Repeat(")", 40),
		`userName eq "` + strings.Repeat("x", 5000) + `"`,
	} {
		t.Run(f, func(t *testing.T) {
			requireError(t, s.do("GET", "/Users?filter="+url.QueryEscape(f), ""), http.StatusBadRequest, "invalidFilter")
			b, _ := json.Marshal(map[string]any{"filter": f})
			requireError(t, s.do("POST", "/Users/.search", string(b)), http.StatusBadRequest, "invalidFilter")
		})
	}
}

// --- lists: sorting ---

func TestSort(t *testing.T) {
	s := newTestServer(t)
	seedUsers(t, s)
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"alice@example.com", "Bob@Example.com", "carol+test@example.org", "dave@example.net"}}, // creation order
		{"sortBy=userName", []string{"alice@example.com", "Bob@Example.com", "carol+test@example.org", "dave@example.net"}},
		{"sortBy=userName&sortOrder=ascending", []string{"alice@example.com", "Bob@Example.com", "carol+test@example.org", "dave@example.net"}},
		{"sortBy=USERNAME&sortOrder=Descending", []string{"dave@example.net", "carol+test@example.org", "Bob@Example.com", "alice@example.com"}},
		// caseExact false: "young" sorts between "Xavier" and "Zephyr"; unassigned (dave) last ascending
		{"sortBy=name.familyName", []string{"carol+test@example.org", "Bob@Example.com", "alice@example.com", "dave@example.net"}},
		{"sortBy=name.familyName&sortOrder=descending", []string{"dave@example.net", "alice@example.com", "Bob@Example.com", "carol+test@example.org"}},
		{"sortBy=" + userURN + ":displayName", []string{"alice@example.com", "Bob@Example.com", "carol+test@example.org", "dave@example.net"}},
		{"sortBy=" + enterpriseNS + ":employeeNumber&sortOrder=descending", []string{"carol+test@example.org", "dave@example.net", "Bob@Example.com", "alice@example.com"}},
		// multi-valued: the primary value, else the first
		{"sortBy=emails", []string{"alice@example.com", "Bob@Example.com", "carol+test@example.org", "dave@example.net"}},
		{"sortBy=emails.type", []string{"carol+test@example.org", "alice@example.com", "Bob@Example.com", "dave@example.net"}},
		{"sortBy=title&filter=title+pr", []string{"alice@example.com", "dave@example.net", "Bob@Example.com"}}, // stable among equals
		{"sortBy=userName&sortOrder=descending&startIndex=2&count=2", []string{"carol+test@example.org", "Bob@Example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := s.do("GET", "/Users?"+tt.query, "")
			require.Equal(t, 200, r.Status, "%s", r.Raw)
			require.Equal(t, tt.want, userNames(t, r.Body))
		})
	}
	requireError(t, s.do("GET", "/Users?sortBy=noSuchThing", ""), 400, "invalidValue")
	requireError(t, s.do("GET", "/Users?sortBy=userName&sortOrder=sideways", ""), 400, "invalidValue")
	sr := s.do("POST", "/Users/.search", `{"sortBy":"userName","sortOrder":"descending","count":1}`)
	require.Equal(t, []string{"dave@example.net"}, userNames(t, sr.Body))
}

// TestSortMeta: meta.created orders by time, not by string, and creation order is stable for equal keys.
func TestSortMeta(t *testing.T) {
	clock := scim.NewTestClock(time.Now())
	s := newTestServer(t, scim.WithTestClock(clock.Now))
	for i := range 3 {
		s.createUser("m" + strconv.Itoa(i))
		clock.Advance(2 * time.Millisecond)
	}
	r := s.do("GET", "/Users?sortBy=meta.created&sortOrder=descending", "")
	require.Equal(t, []string{"m2", "m1", "m0"}, userNames(t, r.Body))
}

// --- lists: paging ---

func TestPaging(t *testing.T) {
	s := newTestServer(t, scim.WithLimits(scim.Limits{MaxResults: 3}))
	for i := 1; i <= 5; i++ {
		s.createUser("u" + strconv.Itoa(i))
	}
	tests := []struct {
		query      string
		startIndex float64
		want       []string
	}{
		{"", 1, []string{"u1", "u2", "u3"}}, // no count: the maximum page
		{"count=2", 1, []string{"u1", "u2"}},
		{"startIndex=2&count=2", 2, []string{"u2", "u3"}},
		{"startIndex=4", 4, []string{"u4", "u5"}},
		{"startIndex=5&count=3", 5, []string{"u5"}},
		{"startIndex=6", 6, []string{}},
		{"startIndex=1000&count=1", 1000, []string{}},
		{"startIndex=0&count=1", 1, []string{"u1"}},  // below 1 means 1
		{"startIndex=-7&count=1", 1, []string{"u1"}}, // below 1 means 1
		{"count=100", 1, []string{"u1", "u2", "u3"}}, // clamped to the maximum
		{"count=0", 1, []string{}},                   // totalResults alone
		{"count=-1", 1, []string{}},                  // negative counts as 0
		{"count=0&startIndex=3", 3, []string{}},      // totalResults alone
		{"filter=userName+gt+%22u2%22&count=1", 1, []string{"u3"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := s.do("GET", "/Users?"+tt.query, "")
			require.Equal(t, 200, r.Status, "%s", r.Raw)
			require.Equal(t, tt.want, userNames(t, r.Body))
			require.Equal(t, float64(len(tt.want)), r.Body["itemsPerPage"], "itemsPerPage is the number returned")
			require.Equal(t, tt.startIndex, r.Body["startIndex"])
			total := 5.0
			if strings.Contains(tt.query, "filter") {
				total = 3
			}
			require.Equal(t, total, r.Body["totalResults"])
			require.Contains(t, string(r.Raw), `"Resources":[`, "Resources is an array, never null")
			require.Equal(t, []any{listURN}, r.Body["schemas"])

			// The same through .search, with numbers in the body.
			q, _ := url.ParseQuery(tt.query)
			req := map[string]any{}
			for _, k := range []string{"startIndex", "count"} {
				if v := q.Get(k); v != "" {
					n, _ := strconv.Atoi(v)
					req[k] = n
				}
			}
			if f := q.Get("filter"); f != "" {
				req["filter"] = f
			}
			b, _ := json.Marshal(req)
			sr := s.do("POST", "/Users/.search", string(b))
			require.Equal(t, 200, sr.Status)
			require.Equal(t, r.Body, sr.Body)
		})
	}
	for _, q := range []string{"count=ten", "startIndex=1.5", "startIndex=x"} {
		requireError(t, s.do("GET", "/Users?"+q, ""), 400, "invalidValue")
	}
}

// TestPagingWalk: walking the pages by startIndex visits every user exactly once.
func TestEmptyList(t *testing.T) {
	s := newTestServer(t)
	for _, path := range []string{"/Users", `/Users?filter=userName+eq+"8c7e4b2a-52b1-4f3e-9d0a-4ad4c6a1e2f1"`, "/Users?startIndex=10"} {
		r := s.do("GET", path, "")
		require.Equal(t, 200, r.Status)
		require.JSONEq(t, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"Resources":[],"startIndex":`+
			strconv.Itoa(int(r.Body["startIndex"].(float64)))+`,"itemsPerPage":0}`, string(r.Raw))
	}
	s.createUser("x")
	r := s.do("GET", `/Users?filter=userName+eq+"y"`, "")
	require.JSONEq(t, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"Resources":[],"startIndex":1,"itemsPerPage":0}`, string(r.Raw))
}

// --- .search ---

func TestSearch(t *testing.T) {
	s := newTestServer(t)
	seedUsers(t, s)
	r := s.do("POST", "/Users/.search", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
		"attributes":["displayName"],"filter":"emails[type eq \"work\"]","sortBy":"displayName","sortOrder":"descending",
		"startIndex":1,"count":10}`)
	require.Equal(t, 200, r.Status, "%s", r.Raw)
	require.Equal(t, []any{listURN}, r.Body["schemas"])
	res := resources(t, r.Body)
	require.Len(t, res, 2)
	require.Equal(t, "Bob", res[0]["displayName"])
	require.Equal(t, "Alice", res[1]["displayName"])
	require.ElementsMatch(t, []string{"schemas", "id", "displayName"}, keys(res[0]))

	// Keys without case, as encoding/json reads them; an empty body object lists everyone.
	r = s.do("POST", "/Users/.search", `{"FILTER":"userName sw \"d\"","ExcludedAttributes":["meta"]}`)
	require.Equal(t, []string{"dave@example.net"}, userNames(t, r.Body))
	require.NotContains(t, resources(t, r.Body)[0], "meta")
	require.Equal(t, 4.0, s.do("POST", "/Users/.search", `{}`).Body["totalResults"])

	// Search creates nothing and answers 200, not 201.
	require.Equal(t, 4.0, s.do("GET", "/Users", "").Body["totalResults"])
	requireError(t, s.do("POST", "/Users/.search", `{"sortOrder":"up"}`), 400, "invalidValue")
	requireError(t, s.do("POST", "/Users/.search", `[]`), 400, "invalidSyntax")
}

// TestListIsConsistentWithGet: a list answers each user exactly as GET does.
func TestListIsConsistentWithGet(t *testing.T) {
	s := newTestServer(t)
	seedUsers(t, s)
	list := resources(t, s.do("GET", "/Users", "").Body)
	require.Len(t, list, 4)
	for _, u := range list {
		require.Equal(t, s.get(u["id"].(string)), u)
	}
	ids := []string{}
	for _, u := range list {
		ids = append(ids, u["id"].(string))
	}
	require.Len(t, slices.Compact(slices.Sorted(slices.Values(ids))), 4)
}
