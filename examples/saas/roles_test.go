package main

import (
	"net/http"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/scimtest"
)

// TestRolesCatalog: an account's admin defines roles on the Roles page; Okta imports them from /Roles
// and grants them through the user's roles (Okta's PATCH shape); a grant of a role the account lacks is
// refused, and another account sees none of them.
func TestRolesCatalog(t *testing.T) {
	ta := startApp(t)
	admin, csrf := ta.signIn(t, "acme-admin")
	tok := token(t, admin, csrf)
	tenantURL := ta.url + "/scim/v2"

	_, body := admin.get("/admin/roles")
	require.Contains(t, body, `id="no-roles"`)
	status, _ := admin.post("/admin/roles", url.Values{"csrf": {csrf}, "key": {"editor"}, "name": {"Editor <b>"}, "description": {"Edits boards"}})
	require.Equal(t, http.StatusOK, status) // after the redirect
	status, body = admin.post("/admin/roles", url.Values{"csrf": {csrf}, "key": {"Bad Key"}, "name": {"x"}})
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, body, `id="problem"`)
	status, _ = admin.post("/admin/roles", url.Values{"csrf": {csrf}, "key": {"editor"}, "name": {"Again"}})
	require.Equal(t, http.StatusConflict, status)
	status, _ = admin.post("/admin/roles", url.Values{"key": {"viewer"}, "name": {"Viewer"}})
	require.Equal(t, http.StatusForbidden, status, "no CSRF token")
	_, body = admin.get("/admin/roles")
	require.Contains(t, body, `<tr data-role="editor">`)
	require.Contains(t, body, "Editor &lt;b&gt;")

	// Okta's import: /ResourceTypes names Role, /Roles lists the catalog, read-only.
	status, doc := scimCall(t, http.MethodGet, tenantURL+"/ResourceTypes/Role", tok, "")
	require.Equal(t, http.StatusOK, status, "%v", doc)
	require.Equal(t, "/Roles", doc["endpoint"])
	status, doc = scimCall(t, http.MethodGet, tenantURL+"/Roles?startIndex=1&count=100", tok, "")
	require.Equal(t, http.StatusOK, status, "%v", doc)
	require.EqualValues(t, 1, doc["totalResults"])
	role := doc["Resources"].([]any)[0].(map[string]any)
	require.Equal(t, "editor", role["id"])
	require.Equal(t, "Edits boards", role["description"])
	status, doc = scimCall(t, http.MethodPost, tenantURL+"/Roles", tok, `{"displayName":"Owner"}`)
	require.Equal(t, http.StatusMethodNotAllowed, status, "%v", doc)

	// Okta grants through the user's roles.
	jane := provisionJane(t, tenantURL, tok)
	status, doc = scimCall(t, http.MethodPatch, tenantURL+"/Users/"+jane, tok,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"roles","value":[{"value":"owner"}]}]}`)
	require.Equal(t, http.StatusBadRequest, status, "%v", doc)
	require.Equal(t, "invalidValue", doc["scimType"])
	status, doc = scimCall(t, http.MethodPatch, tenantURL+"/Users/"+jane, tok,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"roles","value":[{"value":"editor","display":"Editor"}]}]}`)
	require.Equal(t, http.StatusOK, status, "%v", doc)
	_, body = admin.get("/admin/users")
	require.Regexp(t, `(?s)<td class="roles"><code>editor</code></td>`, body)

	// Globex has its own catalog: Acme's role is not one of its roles, over SCIM or on its page.
	globex, gcsrf := ta.signIn(t, "globex-admin")
	gtok := token(t, globex, gcsrf)
	status, doc = scimCall(t, http.MethodGet, tenantURL+"/Roles", gtok, "")
	require.Equal(t, http.StatusOK, status)
	require.EqualValues(t, 0, doc["totalResults"])
	status, doc = scimCall(t, http.MethodPost, tenantURL+"/Users", gtok, `{"userName":"g@globex.com","roles":[{"value":"editor"}]}`)
	require.Equal(t, http.StatusBadRequest, status, "%v", doc)
	_, body = globex.get("/admin/roles")
	require.Contains(t, body, `id="no-roles"`)

	// Deleting the role takes it out of the catalog.
	status, _ = admin.post("/admin/roles/editor/delete", url.Values{"csrf": {csrf}})
	require.Equal(t, http.StatusOK, status)
	status, doc = scimCall(t, http.MethodGet, tenantURL+"/Roles/editor", tok, "")
	require.Equal(t, http.StatusNotFound, status, "%v", doc)
}

// TestRolesStoreKit: the app's own ResourceStore over app_roles passes the library's kit for the Role type
// it serves (the kit's tenants made accounts first: app_roles references accounts).
func TestRolesStoreKit(t *testing.T) {
	scimtest.TestResourceStore(t, roleType, func(t *testing.T) scim.ResourceStore {
		db, err := openDB(filepath.Join(t.TempDir(), "kit.db"))
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		require.NoError(t, migrate(t.Context(), db))
		for _, account := range []string{"", "scimtest-a", "scimtest-b"} {
			_, err := db.ExecContext(t.Context(), `INSERT INTO accounts (id, name, created) VALUES (?, ?, ?)`, account, account, timestamp(time.Now()))
			require.NoError(t, err)
		}
		return rolesStore{db: db}
	})
}
