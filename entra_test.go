package scim_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/memstore"
)

// The Entra ID provisioning lifecycle, replayed with the request shapes of ../shared/ENTRA.md, in both of
// Entra's modes: the default one, and the RFC-compliant one an admin gets by appending ?aadOptscim062020 to
// the Tenant URL.

// filterPath builds the list URL Entra uses: spaces as '+', quotes as %22.
func filterPath(attr, value string) string {
	return "/Users?filter=" + url.QueryEscape(attr+` eq "`+value+`"`)
}

// newEntraServer mounts a handler over a fresh memstore that accepts Entra's token, and returns the
// client Entra is: its token, no User-Agent, and in compliant mode the suffix's flag on every URL.
func newEntraServer(t *testing.T, suffix string) *testServer {
	t.Helper()
	s := serveStoreAt(t, memstore.New(), scim.WithTokens("entra-secret-token"))
	s.token = "entra-secret-token"
	s.query = strings.TrimPrefix(suffix, "?")
	return s
}

const entraCreate = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
 "externalId":"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef","userName":"jane@contoso.com","active":true,
 "displayName":"Jane Doe","emails":[{"primary":true,"type":"work","value":"jane@contoso.com"}],
 "meta":{"resourceType":"User"},"name":{"formatted":"Jane Doe","familyName":"Doe","givenName":"Jane"},"roles":[]}`

const entraUpdateDefault = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
  {"op":"Replace","path":"displayName","value":"Pvlo"},
  {"op":"Replace","path":"emails[type eq \"work\"].value","value":"new@contoso.com"},
  {"op":"Replace","path":"name.formatted","value":"Jane Q Doe"},
  {"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber","value":"42"}]}`

const entraUpdateCompliant = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
  {"op":"replace","path":"emails[type eq \"work\"].value","value":"new@contoso.com"},
  {"op":"replace","value":{"displayName":"Pvlo","name.formatted":"Jane Q Doe",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"42"}}]}`

func TestEntraLifecycle(t *testing.T) {
	modes := []struct {
		name, suffix, update, disable, enable string
	}{
		{
			name:    "default",
			update:  entraUpdateDefault,
			disable: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}`,
			enable:  `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"True"}]}`,
		},
		{
			name:    "aadOptscim062020",
			suffix:  "?aadOptscim062020",
			update:  entraUpdateCompliant,
			disable: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`,
			enable:  `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":true}]}`,
		},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			c := newEntraServer(t, m.suffix)

			// Test Connection: a filter on a random GUID must answer exactly an empty ListResponse.
			status, _, body := c.answer("GET", filterPath("userName", "8c7e4b2a-52b1-4f3e-9d0a-4ad4c6a1e2f1"), "")
			require.Equal(t, 200, status)
			want := map[string]any{"schemas": []any{"urn:ietf:params:scim:api:messages:2.0:ListResponse"},
				"totalResults": 0.0, "Resources": []any{}, "startIndex": 1.0, "itemsPerPage": 0.0}
			require.Equal(t, want, body)

			// Create: the query for the real userName finds nothing, then POST.
			status, _, body = c.answer("GET", filterPath("userName", "jane@contoso.com"), "")
			require.Equal(t, 200, status)
			require.Equal(t, 0.0, body["totalResults"])
			status, hdr, body := c.answer("POST", "/Users", entraCreate)
			require.Equal(t, 201, status, "%v", body)
			id, _ := body["id"].(string)
			require.NotEmpty(t, id)
			require.Equal(t, c.URL+"/Users/"+id, hdr.Get("Location"))
			require.Equal(t, "jane@contoso.com", body["userName"])
			require.Equal(t, true, body["active"])
			require.Equal(t, "Jane Doe", body["displayName"])
			require.Equal(t, "Jane Doe", body["name"].(map[string]any)["formatted"])
			require.Equal(t, []any{map[string]any{"primary": true, "type": "work", "value": "jane@contoso.com"}}, body["emails"])
			require.NotContains(t, body, "roles", "an empty array is unassigned")

			// The same userName again, in another case: 409 uniqueness; Entra retries next cycle.
			status, _, body = c.answer("POST", "/Users", strings.Replace(entraCreate, "jane@contoso.com", "JANE@Contoso.com", 1))
			require.Equal(t, 409, status)
			require.Equal(t, "uniqueness", body["scimType"])
			require.Equal(t, "409", body["status"])

			// Update: Entra reads the user by filter, then sends one PATCH with what changed.
			status, _, body = c.answer("GET", filterPath("userName", "jane@contoso.com"), "")
			require.Equal(t, 200, status)
			require.Equal(t, 1.0, body["totalResults"])
			status, _, _ = c.answer("PATCH", "/Users/"+id, m.update)
			require.Contains(t, []int{200, 204}, status)
			user := entraGet(t, c, id)
			require.Equal(t, "Pvlo", user["displayName"])
			require.Equal(t, map[string]any{"formatted": "Jane Q Doe", "familyName": "Doe", "givenName": "Jane"}, user["name"])
			require.NotContains(t, user, "name.formatted", "a dotted key is a path, never an attribute")
			require.Equal(t, []any{map[string]any{"primary": true, "type": "work", "value": "new@contoso.com"}}, user["emails"])
			ent := user["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].(map[string]any)
			require.Equal(t, "42", ent["employeeNumber"])
			require.Contains(t, user["schemas"], "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")

			// Disable: still returned by GET and by the filter, with active a JSON boolean false.
			status, _, _ = c.answer("PATCH", "/Users/"+id, m.disable)
			require.Contains(t, []int{200, 204}, status)
			require.Equal(t, false, entraGet(t, c, id)["active"])
			_, _, body = c.answer("GET", filterPath("userName", "jane@contoso.com"), "")
			require.Equal(t, 1.0, body["totalResults"])
			require.Equal(t, false, body["Resources"].([]any)[0].(map[string]any)["active"])

			// Re-enable.
			status, _, _ = c.answer("PATCH", "/Users/"+id, m.enable)
			require.Contains(t, []int{200, 204}, status)
			require.Equal(t, true, entraGet(t, c, id)["active"])

			// Delete: 204, then 404 and no filter match; the userName can be created again.
			status, _, _ = c.answer("DELETE", "/Users/"+id, "")
			require.Equal(t, 204, status)
			status, _, body = c.answer("GET", "/Users/"+id, "")
			require.Equal(t, 404, status)
			require.Equal(t, "404", body["status"])
			_, _, body = c.answer("GET", filterPath("userName", "jane@contoso.com"), "")
			require.Equal(t, 0.0, body["totalResults"])
			status, _, _ = c.answer("POST", "/Users", entraCreate)
			require.Equal(t, 201, status)
		})
	}
}

func entraGet(t *testing.T, c *testServer, id string) map[string]any {
	t.Helper()
	status, _, body := c.answer("GET", "/Users/"+id, "")
	require.Equal(t, 200, status, "%v", body)
	return body
}

// TestEntraCreateInTheWild replays POST bodies seen from Entra in the wild: none of them may fail.
func TestEntraCreateInTheWild(t *testing.T) {
	c := newEntraServer(t, "")
	status, _, body := c.answer("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0User"],
		"userName":"wild@contoso.com","active":"True","addresses":null,"department":"Sales",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":null,"department":"Sales"},
		"emails":[{"primary":"True","type":"work","value":"wild@contoso.com"}]}`)
	require.Equal(t, 201, status, "%v", body)
	require.Equal(t, true, body["active"])
	require.NotContains(t, body, "department", "unknown top-level attributes are ignored")
	require.NotContains(t, body, "addresses")
	require.Equal(t, true, body["emails"].([]any)[0].(map[string]any)["primary"])
	ent := body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].(map[string]any)
	require.Equal(t, map[string]any{"department": "Sales"}, ent)
}

// TestEntraWorkEmail: Add or Replace on emails[type eq "work"].value creates the work email when the user
// has none, and never leaves two.
func TestEntraWorkEmail(t *testing.T) {
	c := newEntraServer(t, "")
	status, _, body := c.answer("POST", "/Users", `{"userName":"noemail@contoso.com",
		"emails":[{"type":"home","value":"me@home.example"}]}`)
	require.Equal(t, 201, status)
	id := body["id"].(string)
	for _, op := range []string{"Add", "Replace", "add", "replace"} {
		status, _, body = c.answer("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations":[{"op":"`+op+`","path":"emails[type eq \"work\"].value","value":"`+op+`@contoso.com"}]}`)
		require.Equal(t, 200, status, "%v", body)
		require.Equal(t, []any{
			map[string]any{"type": "home", "value": "me@home.example"},
			map[string]any{"type": "work", "value": op + "@contoso.com"},
		}, entraGet(t, c, id)["emails"], "after %s", op)
	}
}

// TestEntraOtherShapes: Operations before schemas, an empty Operations array, Add on an unset attribute.
func TestEntraOtherShapes(t *testing.T) {
	c := newEntraServer(t, "")
	_, _, body := c.answer("POST", "/Users", `{"userName":"shapes@contoso.com"}`)
	id := body["id"].(string)
	before := entraGet(t, c, id)

	status, _, _ := c.answer("PATCH", "/Users/"+id, `{"Operations":[],"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`)
	require.Equal(t, 200, status)
	require.Equal(t, before, entraGet(t, c, id), "an empty PATCH changes nothing, not even meta")

	status, _, _ = c.answer("PATCH", "/Users/"+id, `{"Operations":[{"op":"Add","path":"nickName","value":"Babs"}],
		"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`)
	require.Equal(t, 200, status)
	require.Equal(t, "Babs", entraGet(t, c, id)["nickName"])
}

// TestEntraRolesManagerAndTypes replays Entra's app-role and manager shapes (../shared/ENTRA.md, "Beyond the
// five mappings") and checks that values of the wrong JSON type are refused rather than guessed at.
func TestEntraRolesManagerAndTypes(t *testing.T) {
	c := newEntraServer(t, "")
	status, _, body := c.answer("POST", "/Users", `{"userName":"roles@contoso.com",
		"roles":[{"primary":true,"type":"WindowsAzureActiveDirectoryRole","value":"Admin"}]}`)
	require.Equal(t, 201, status)
	id := body["id"].(string)
	require.Equal(t, []any{map[string]any{"primary": true, "type": "WindowsAzureActiveDirectoryRole", "value": "Admin"}}, body["roles"])

	// Default mode: the role as stringified JSON inside value, decoded into a role.
	status, _, body = c.answer("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Add","path":"roles","value":[{"value":"{\"id\":\"06b07648-ecfe-589f-9d2f-6325724a46ee\",\"value\":\"25\",\"displayName\":\"Role1234\"}"}]}]}`)
	require.Equal(t, 200, status, "%v", body)
	require.Contains(t, body["roles"], map[string]any{"value": "25", "display": "Role1234"})

	// AppRoleAssignmentsComplex: a replace of the whole list.
	status, _, body = c.answer("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"replace","path":"roles","value":[{"value":"Reader","display":"Reader"},{"value":"Writer","display":"Writer"}]}]}`)
	require.Equal(t, 200, status, "%v", body)
	require.Equal(t, []any{map[string]any{"value": "Reader", "display": "Reader"}, map[string]any{"value": "Writer", "display": "Writer"}}, body["roles"])

	// The manager: documented (bare path, an array of one object) and seen in the wild (a bare id).
	const ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	status, _, body = c.answer("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Add","path":"manager","value":[{"$ref":"../Users/00aa","value":"00aa"}]}]}`)
	require.Equal(t, 200, status, "%v", body)
	require.Equal(t, map[string]any{"value": "00aa", "$ref": "../Users/00aa"}, body[ent].(map[string]any)["manager"])
	status, _, body = c.answer("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Add","path":"`+ent+`:manager","value":"271"}]}`)
	require.Equal(t, 200, status, "%v", body)
	require.Equal(t, "271", body[ent].(map[string]any)["manager"].(map[string]any)["value"])

	// Strict types: never coerced into something the client did not say.
	before := entraGet(t, c, id)
	for _, bad := range []string{
		`{"userName":5}`,
		`{"userName":"t@contoso.com","emails":"notalist"}`,
		`{"userName":"t@contoso.com","emails":["t@contoso.com"]}`,
		`{"userName":"t@contoso.com","active":"yes"}`,
		`{"userName":"t@contoso.com","` + ent + `":{"employeeNumber":42}}`,
	} {
		status, _, body := c.answer("POST", "/Users", bad)
		require.Equal(t, 400, status, bad)
		require.Equal(t, "invalidValue", body["scimType"], bad)
	}
	status, _, _ = c.answer("PATCH", "/Users/"+id, `{"Operations":[{"op":"replace","path":"displayName","value":{"x":1}}]}`)
	require.Equal(t, 400, status)
	require.Equal(t, before, entraGet(t, c, id), "refused writes change nothing")
}
