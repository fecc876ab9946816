package members_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/examples/members"
	"github.com/scimkit/scim/scimtest"
)

func open(t *testing.T) *sql.DB {
	t.Helper()
	db, err := members.Open(context.Background(), filepath.Join(t.TempDir(), "app.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// The kit, for what the table keeps. Two adjustments, both forced by the table: active is a NOT NULL
// is_disabled flag, so an unassigned active comes back true (Defaults); and emails is derived (Derived): the
// kit gives three typed emails and the table keeps one address, returned as the primary work email, so the
// kit takes the Store's form and checks that filters on emails agree with it.
func TestStore(t *testing.T) {
	scimtest.TestStore(t, func(t *testing.T) scim.Store { return members.New(open(t)) }, scimtest.Options{
		Schema:   members.Schema,
		Tenants:  [2]string{"1", "2"},
		Defaults: map[string]any{"active": true},
		Derived:  []string{"emails"},
	})
}

// client speaks to a handler over members as Entra ID does for org 1.
type client struct {
	t   *testing.T
	srv *httptest.Server
	db  *sql.DB
}

func newClient(t *testing.T) *client {
	db := open(t)
	h := scim.MustNew(members.New(db), scim.WithUserSchema(members.Schema),
		scim.WithAuthenticator(func(r *http.Request) (string, error) {
			if tok, _ := scim.BearerToken(r); tok == "org-1-token" {
				return "1", nil
			}
			return "", scim.ErrUnauthorized
		}))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &client{t: t, srv: srv, db: db}
}

func (c *client) do(method, path, body string) (int, http.Header, map[string]any) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.srv.URL+path, strings.NewReader(body))
	require.NoError(c.t, err)
	req.Header.Set("Authorization", "Bearer org-1-token")
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := c.srv.Client().Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, resp.Header, out
}

func (c *client) filter(f string) map[string]any {
	c.t.Helper()
	status, _, body := c.do("GET", "/Users?filter="+strings.NewReplacer(" ", "+", `"`, "%22").Replace(f), "")
	require.Equal(c.t, http.StatusOK, status, body)
	return body
}

// Entra ID's whole lifecycle of one user, with the bodies it sends (shared/ENTRA.md).
func TestEntraLifecycle(t *testing.T) {
	c := newClient(t)
	// Test Connection.
	empty := c.filter(`userName eq "0a8a5b7e-0f4e-4b4b-9d1e-5f2a6a4c9c11"`)
	require.EqualValues(t, 0, empty["totalResults"])
	require.Equal(t, []any{}, empty["Resources"])

	// Create: the lookup, then POST.
	require.EqualValues(t, 0, c.filter(`userName eq "jane@contoso.com"`)["totalResults"])
	status, hdr, created := c.do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
 "externalId":"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef","userName":"jane@contoso.com","active":true,
 "displayName":"Jane Doe","emails":[{"primary":true,"type":"work","value":"jane@contoso.com"}],
 "meta":{"resourceType":"User"},"name":{"formatted":"Jane Doe","familyName":"Doe","givenName":"Jane"},"roles":[]}`)
	require.Equal(t, http.StatusCreated, status, created)
	id, _ := created["id"].(string)
	_, err := strconv.Atoi(id)
	require.NoError(t, err, "the id is the table's integer key: %q", id)
	require.Equal(t, "jane@contoso.com", created["userName"])
	require.Equal(t, true, created["active"])
	require.Equal(t, "Jane Doe", created["displayName"])
	require.Equal(t, map[string]any{"formatted": "Jane Doe"}, created["name"])
	require.Equal(t, []any{map[string]any{"value": "jane@contoso.com", "type": "work", "primary": true}}, created["emails"])
	require.NotContains(t, created, "externalId") // not declared: the table has no column for it
	require.NotEmpty(t, hdr.Get("ETag"))

	// Duplicate userName, in another case: 409 uniqueness.
	status, _, body := c.do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"JANE@contoso.com"}`)
	require.Equal(t, http.StatusConflict, status, body)
	require.Equal(t, "uniqueness", body["scimType"])

	// The read before an update, by filter.
	found := c.filter(`userName eq "Jane@Contoso.com"`)
	require.EqualValues(t, 1, found["totalResults"])
	require.Equal(t, id, found["Resources"].([]any)[0].(map[string]any)["id"])

	// One PATCH with what changed (default mode).
	status, _, body = c.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
  {"op":"Replace","path":"displayName","value":"Pvlo"},
  {"op":"Replace","path":"emails[type eq \"work\"].value","value":"new@contoso.com"},
  {"op":"Replace","path":"name.formatted","value":"Jane Q Doe"},
  {"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber","value":"42"}]}`)
	require.Contains(t, []int{http.StatusOK, http.StatusNoContent}, status, body)
	status, _, got := c.do("GET", "/Users/"+id, "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "Pvlo", got["displayName"])
	require.Equal(t, map[string]any{"formatted": "Jane Q Doe"}, got["name"])
	require.Equal(t, []any{map[string]any{"value": "new@contoso.com", "type": "work", "primary": true}}, got["emails"])
	require.NotContains(t, got, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
	var email, display, full string
	require.NoError(t, c.db.QueryRow(`SELECT email, display_name, full_name FROM members WHERE id = ?`, id).Scan(&email, &display, &full))
	require.Equal(t, []string{"new@contoso.com", "Pvlo", "Jane Q Doe"}, []string{email, display, full})

	// Compliant mode's path-less replace with dotted keys.
	status, _, body = c.do("PATCH", "/Users/"+id+"?aadOptscim062020", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
  {"op":"replace","path":"emails[type eq \"work\"].value","value":"jane.doe@contoso.com"},
  {"op":"replace","value":{"displayName":"Jane","name.formatted":"Jane Doe"}}]}`)
	require.Contains(t, []int{http.StatusOK, http.StatusNoContent}, status, body)
	_, _, got = c.do("GET", "/Users/"+id, "")
	require.Equal(t, "Jane", got["displayName"])
	require.Equal(t, map[string]any{"formatted": "Jane Doe"}, got["name"])
	require.Equal(t, "jane.doe@contoso.com", got["emails"].([]any)[0].(map[string]any)["value"])

	// Disable with a string boolean: still returned, active false, is_disabled set.
	status, _, body = c.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}`)
	require.Contains(t, []int{http.StatusOK, http.StatusNoContent}, status, body)
	_, _, got = c.do("GET", "/Users/"+id, "")
	require.Equal(t, false, got["active"])
	require.EqualValues(t, 1, c.filter(`userName eq "jane@contoso.com"`)["totalResults"])
	var disabled int
	require.NoError(t, c.db.QueryRow(`SELECT is_disabled FROM members WHERE id = ?`, id).Scan(&disabled))
	require.Equal(t, 1, disabled)

	// Re-enable.
	status, _, body = c.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"True"}]}`)
	require.Contains(t, []int{http.StatusOK, http.StatusNoContent}, status, body)
	_, _, got = c.do("GET", "/Users/"+id, "")
	require.Equal(t, true, got["active"])

	// Delete; the userName is free again, and the new member gets a new id.
	status, _, _ = c.do("DELETE", "/Users/"+id, "")
	require.Equal(t, http.StatusNoContent, status)
	status, _, _ = c.do("GET", "/Users/"+id, "")
	require.Equal(t, http.StatusNotFound, status)
	require.EqualValues(t, 0, c.filter(`userName eq "jane@contoso.com"`)["totalResults"])
	status, _, again := c.do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"jane@contoso.com"}`)
	require.Equal(t, http.StatusCreated, status, again)
	require.NotEqual(t, id, again["id"], "a deleted member's id is never given again")
}

// The app edits members itself; SCIM sees the change, with a new ETag, and a client's old If-Match fails.
func TestAppEditsAreVisible(t *testing.T) {
	c := newClient(t)
	status, hdr, created := c.do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bob@contoso.com","displayName":"Bob"}`)
	require.Equal(t, http.StatusCreated, status, created)
	id, etag := created["id"].(string), hdr.Get("ETag")
	// The row's updated_at set back a day, so that the app's edit cannot fall in the same millisecond
	// (an update that sets updated_at keeps it: the trigger stamps only edits that leave it alone).
	_, err := c.db.Exec(`UPDATE members SET updated_at = '2000-01-01T00:00:00.000Z' WHERE id = ?`, id)
	require.NoError(t, err)
	_, _, before := c.do("GET", "/Users/"+id, "")
	lastModified := before["meta"].(map[string]any)["lastModified"]
	require.Equal(t, "2000-01-01T00:00:00Z", lastModified)

	_, err = c.db.Exec(`UPDATE members SET display_name = 'Robert' WHERE id = ?`, id)
	require.NoError(t, err)

	status, hdr, got := c.do("GET", "/Users/"+id, "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "Robert", got["displayName"])
	require.NotEqual(t, etag, hdr.Get("ETag"), "the trigger bumped the version")
	require.NotEqual(t, lastModified, got["meta"].(map[string]any)["lastModified"], "the trigger set updated_at")

	req, _ := http.NewRequest("PATCH", c.srv.URL+"/Users/"+id, strings.NewReader(
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"Bobby"}]}`))
	req.Header.Set("Authorization", "Bearer org-1-token")
	req.Header.Set("Content-Type", "application/scim+json")
	req.Header.Set("If-Match", etag)
	resp, err := c.srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusPreconditionFailed, resp.StatusCode, "a PATCH against the version before the app's edit")
}

// Rows that existed before SCIM: Migrate adds the key and version columns to the app's table, and the old
// rows are SCIM users with their own ids and times.
func TestRowsFromBeforeSCIM(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "legacy.db")
	legacy, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	_, err = legacy.Exec(members.Table)
	require.NoError(t, err)
	_, err = legacy.Exec(`INSERT INTO members (org_id, user_name, email, display_name, full_name, is_disabled, created_at, updated_at)
		VALUES (1, 'Old.Timer@contoso.com', 'old@contoso.com', 'Old Timer', 'Old T. Timer', 1, datetime('now', '-1 year'), datetime('now')),
		       (2, 'other@contoso.com', NULL, NULL, NULL, 0, datetime('now'), datetime('now'))`)
	require.NoError(t, err)
	require.NoError(t, legacy.Close())

	db, err := members.Open(ctx, path)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	s := members.New(db)
	page, err := s.List(scim.ContextWithTenant(ctx, "1"), scim.Query{StartIndex: 1, Count: 10})
	require.NoError(t, err)
	require.Len(t, page.Users, 1)
	u := page.Users[0]
	require.Equal(t, "1", u.ID)
	require.Equal(t, "Old.Timer@contoso.com", u.UserName)
	require.False(t, u.IsActive())
	require.Equal(t, "old@contoso.com", u.Emails[0].Value)
	require.False(t, u.Meta.Created.IsZero())
	require.NotEmpty(t, u.Meta.Version)
	// The key was filled for old rows: uniqueness without case holds against them.
	_, err = s.Create(scim.ContextWithTenant(ctx, "1"), &scim.User{UserName: "old.timer@CONTOSO.com"})
	require.ErrorIs(t, err, scim.ErrConflict)
	// Migrate is idempotent.
	require.NoError(t, members.Migrate(ctx, db))
}

// Attributes outside the declaration are accepted and dropped: nothing of them is stored or returned, and a
// filter on one is refused.
func TestUndeclaredAttributesStoreNothing(t *testing.T) {
	c := newClient(t)
	status, _, created := c.do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
 "userName":"carol@contoso.com","title":"CFO","externalId":"ext-9",
 "phoneNumbers":[{"value":"+1 555 0100","type":"work"}],
 "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Finance"}}`)
	require.Equal(t, http.StatusCreated, status, created)
	id := created["id"].(string)
	_, _, got := c.do("GET", "/Users/"+id, "")
	for _, m := range []map[string]any{created, got} {
		for _, attr := range []string{"title", "password", "externalId", "phoneNumbers", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"} {
			require.NotContains(t, m, attr)
		}
	}
	// The row holds what the columns hold, and no column of the table mentions the rest.
	var cols []string
	rows, err := c.db.Query(`SELECT name FROM pragma_table_info('members')`)
	require.NoError(t, err)
	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		cols = append(cols, name)
	}
	require.NoError(t, rows.Err())
	require.ElementsMatch(t, []string{"id", "org_id", "user_name", "email", "display_name", "full_name", "is_disabled",
		"created_at", "updated_at", "user_name_key", "version"}, cols)
	var email, display, full sql.NullString
	require.NoError(t, c.db.QueryRow(`SELECT email, display_name, full_name FROM members WHERE id = ?`, id).Scan(&email, &display, &full))
	require.False(t, email.Valid || display.Valid || full.Valid)

	status, _, body := c.do("GET", "/Users?filter=title+eq+%22CFO%22", "")
	require.Equal(t, http.StatusBadRequest, status)
	require.Equal(t, "invalidFilter", body["scimType"])
}
