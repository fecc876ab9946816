package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// entraCreate is the POST /Users body Microsoft Entra ID sends (ENTRA.md).
const entraCreate = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
 "externalId":"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef","userName":"jane@contoso.com","active":true,
 "displayName":"Jane Doe","emails":[{"primary":true,"type":"work","value":"jane@contoso.com"}],
 "meta":{"resourceType":"User"},"name":{"formatted":"Jane Doe","familyName":"Doe","givenName":"Jane"},"roles":[]}`

// entraDisable is Entra's default-mode PATCH that disables a user: a capitalised op and a string boolean.
const entraDisable = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
  {"op":"Replace","path":"active","value":"False"}]}`

const entraEnable = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
  {"op":"Replace","path":"active","value":"True"}]}`

// testApp is the app served on a loopback port, over a fresh SQLite file, on a clock the test moves.
type testApp struct {
	*app
	url    string
	admins map[string]string // login → password
	clock  *testClock
}

// testClock is a clock that moves only when the test says so.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func startApp(t *testing.T) *testApp {
	t.Helper()
	ctx := t.Context()
	db, err := openDB(filepath.Join(t.TempDir(), "saas.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	log := slog.New(slog.NewTextHandler(testWriter{t}, nil))
	a, err := newApp(ctx, db, log, "")
	require.NoError(t, err)
	// Cleanups run last first: srv.Close, then the last events are delivered, then db.Close.
	t.Cleanup(func() { require.NoError(t, a.Close()) })
	a.passwordIter = 1000 // 600,000 iterations take a second each under the race detector
	clock := &testClock{now: time.Now()}
	a.now = clock.Now
	admins, err := a.seedDemo(ctx)
	require.NoError(t, err)
	srv := httptest.NewServer(a.handler())
	t.Cleanup(srv.Close) // runs first: waits for in-flight requests before the events drain and db.Close
	ta := &testApp{app: a, url: srv.URL, admins: map[string]string{}, clock: clock}
	for _, d := range admins {
		ta.admins[d.login] = d.password
	}
	return ta
}

// sessions counts the app sessions of an account's user.
func (ta *testApp) sessions(t *testing.T, account, userID string) int {
	t.Helper()
	var n int
	require.NoError(t, ta.db.QueryRow(`SELECT count(*) FROM app_sessions WHERE account_id = ? AND user_id = ?`,
		account, userID).Scan(&n))
	return n
}

// waitNoSessions waits for the event hook, which runs after the SCIM response was sent, to revoke the user's
// sessions.
func (ta *testApp) waitNoSessions(t *testing.T, account, userID string) {
	t.Helper()
	require.Eventually(t, func() bool { return ta.sessions(t, account, userID) == 0 }, 5*time.Second, 10*time.Millisecond,
		"the sessions of %s were not revoked", userID)
}

// scimCall sends a SCIM request as an identity provider does and decodes the JSON answer, if any.
func scimCall(t *testing.T, method, url, token, body string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json; charset=utf-8")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var doc map[string]any
	if len(raw) > 0 {
		require.NoError(t, json.Unmarshal(raw, &doc), "body: %s", raw)
	}
	return resp.StatusCode, doc
}

// filterURL is the query Entra sends to find a user by userName (Test Connection uses a random one).
func filterURL(tenantURL, userName string) string {
	return tenantURL + "/Users?filter=" + url.QueryEscape(`userName eq "`+userName+`"`)
}

// provisionJane replays Entra's Test Connection and the create of jane@contoso.com, and returns her id.
func provisionJane(t *testing.T, tenantURL, token string) string {
	t.Helper()
	status, doc := scimCall(t, http.MethodGet, filterURL(tenantURL, "7b1e2a43-62f2-4c55-9d1c-0f7a9c7f1d6e"), token, "")
	require.Equal(t, http.StatusOK, status, "Test Connection")
	require.EqualValues(t, 0, doc["totalResults"])
	status, doc = scimCall(t, http.MethodGet, filterURL(tenantURL, "jane@contoso.com"), token, "")
	require.Equal(t, http.StatusOK, status)
	require.EqualValues(t, 0, doc["totalResults"])
	status, doc = scimCall(t, http.MethodPost, tenantURL+"/Users", token, entraCreate)
	require.Equal(t, http.StatusCreated, status, "create: %v", doc)
	id, _ := doc["id"].(string)
	require.NotEmpty(t, id)
	return id
}

// patchUser sends a PATCH and checks it succeeded (Entra accepts 200 and 204).
func patchUser(t *testing.T, tenantURL, token, id, body string) {
	t.Helper()
	status, doc := scimCall(t, http.MethodPatch, tenantURL+"/Users/"+id, token, body)
	require.Contains(t, []int{http.StatusOK, http.StatusNoContent}, status, "patch: %v", doc)
}

// TestProvisioningOverHTTP is the browser test's flow with a plain HTTP client standing in for the admin's
// browser, so that it runs everywhere; it also covers what a browser adds nothing to (CSRF, tenants, token
// revocation, deletion).
func TestProvisioningOverHTTP(t *testing.T) {
	ta := startApp(t)
	admin := newClient(t, ta.url)

	// Signing in.
	status, body := admin.post("/login", url.Values{"login": {"acme-admin"}, "password": {"wrong"}})
	require.Equal(t, http.StatusUnauthorized, status)
	require.Contains(t, body, "Wrong login or password")
	status, _ = admin.get("/admin/users")
	require.Equal(t, http.StatusOK, status) // redirected to the login page
	require.Contains(t, admin.lastURL, "/login")
	status, body = admin.post("/login", url.Values{"login": {"acme-admin"}, "password": {ta.admins["acme-admin"]}})
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "Integrations")
	csrf := match(t, body, `name="csrf" value="([^"]+)"`)

	// Generate token: refused without the CSRF token; shown once with the Tenant URL.
	status, _ = admin.post("/admin/tokens", nil)
	require.Equal(t, http.StatusForbidden, status)
	status, body = admin.post("/admin/tokens", url.Values{"csrf": {csrf}})
	require.Equal(t, http.StatusOK, status)
	token := match(t, body, `id="token">([^<]+)<`)
	tenantURL := match(t, body, `id="tenant-url">([^<]+)<`)
	require.Equal(t, ta.url+"/scim/v2", tenantURL)
	require.Contains(t, body, "Test Connection")
	var stored string
	require.NoError(t, ta.db.QueryRow(`SELECT token_hash FROM scim_tokens WHERE account_id = 'acme'`).Scan(&stored))
	require.NotContains(t, stored, token, "only the hash is stored")
	_, body = admin.get("/admin")
	require.NotContains(t, body, token, "the token is shown once")
	require.Contains(t, body, "…"+token[len(token)-4:])

	status, _ = scimCall(t, http.MethodGet, filterURL(tenantURL, "x"), "not-a-token", "")
	require.Equal(t, http.StatusUnauthorized, status)

	// Provisioning, then the users page.
	id := provisionJane(t, tenantURL, token)
	_, body = admin.get("/admin/users")
	require.Regexp(t, `data-user="jane@contoso.com">.*\n.*>active<`, body)
	require.Contains(t, body, "Jane Doe")

	// Another account's token sees none of Acme's users.
	globex := newClient(t, ta.url)
	_, body = globex.post("/login", url.Values{"login": {"globex-admin"}, "password": {ta.admins["globex-admin"]}})
	_, body = globex.post("/admin/tokens", url.Values{"csrf": {match(t, body, `name="csrf" value="([^"]+)"`)}})
	globexToken := match(t, body, `id="token">([^<]+)<`)
	status, doc := scimCall(t, http.MethodGet, filterURL(tenantURL, "jane@contoso.com"), globexToken, "")
	require.Equal(t, http.StatusOK, status)
	require.EqualValues(t, 0, doc["totalResults"])
	status, _ = scimCall(t, http.MethodGet, tenantURL+"/Users/"+id, globexToken, "")
	require.Equal(t, http.StatusNotFound, status)
	_, body = globex.get("/admin/users")
	require.NotContains(t, body, "jane@contoso.com")

	// Jane signs in to the product (the demo button), then Entra disables her: her session ends.
	status, body = admin.post("/admin/users/"+id+"/sign-in", url.Values{"csrf": {csrf}})
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, `id="signed-in"`)
	require.Equal(t, 1, ta.sessions(t, "acme", id))
	patchUser(t, tenantURL, token, id, entraDisable)
	ta.waitNoSessions(t, "acme", id)
	_, body = admin.get("/app")
	require.Contains(t, body, `id="signed-out"`)
	_, body = admin.get("/admin/users")
	require.Regexp(t, `data-user="jane@contoso.com">.*\n.*>inactive<`, body)
	status, _ = admin.post("/admin/users/"+id+"/sign-in", url.Values{"csrf": {csrf}})
	require.Equal(t, http.StatusForbidden, status, "an inactive user cannot sign in")

	// Re-enabled, she signs in again; deleted, her session ends too.
	patchUser(t, tenantURL, token, id, entraEnable)
	status, _ = admin.post("/admin/users/"+id+"/sign-in", url.Values{"csrf": {csrf}})
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 1, ta.sessions(t, "acme", id))
	status, _ = scimCall(t, http.MethodDelete, tenantURL+"/Users/"+id, token, "")
	require.Equal(t, http.StatusNoContent, status)
	ta.waitNoSessions(t, "acme", id)
	_, body = admin.get("/admin/users")
	require.NotContains(t, body, "jane@contoso.com")

	// A revoked token is refused.
	_, body = admin.get("/admin")
	revoke := match(t, body, `action="(/admin/tokens/\d+/revoke)"`)
	status, _ = admin.post(revoke, url.Values{"csrf": {csrf}})
	require.Equal(t, http.StatusOK, status)
	status, _ = scimCall(t, http.MethodGet, filterURL(tenantURL, "x"), token, "")
	require.Equal(t, http.StatusUnauthorized, status)
}

// TestProvisioningInBrowser drives the admin pages in headless Chromium: sign in, generate a token, read it
// from the page, provision a user with it as Entra does, and watch the users page follow.
func TestProvisioningInBrowser(t *testing.T) {
	bin := findChromium()
	if bin == "" {
		t.Skip("no Chromium found (chromium or chromium-browser on PATH, or /usr/bin/chromium): " +
			"install Debian's chromium package to run the browser test")
	}
	ta := startApp(t)

	profile, tmp := t.TempDir(), t.TempDir() // removed after the browser exits (deferred cancels run first)
	ctx, cancel := context.WithTimeout(t.Context(), 40*time.Second)
	defer cancel()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.Env("TMPDIR="+tmp), // Chromium leaves a directory in $TMPDIR
	)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()

	// chromedp v0.23: Do runs steps that return nothing, Run one step that returns a value.
	const jane = `tr[data-user="jane@contoso.com"]`
	require.NoError(t, chromedp.Do(browser,
		chromedp.Navigate(ta.url+"/login"),
		chromedp.SendKeys(chromedp.ID("login"), "acme-admin"),
		chromedp.SendKeys(chromedp.ID("password"), ta.admins["acme-admin"]),
		chromedp.Click(chromedp.ID("sign-in")),
		chromedp.WaitVisible(chromedp.ID("generate-token")),
		chromedp.Click(chromedp.ID("generate-token")),
		chromedp.WaitVisible(chromedp.ID("token")),
	), "signing in and generating a token")
	token := text(t, browser, chromedp.ID("token"))
	tenantURL := text(t, browser, chromedp.ID("tenant-url"))
	require.NotEmpty(t, token)
	require.Equal(t, ta.url+"/scim/v2", tenantURL)

	id := provisionJane(t, tenantURL, token)
	require.NoError(t, chromedp.Do(browser, chromedp.Navigate(ta.url+"/admin/users")))
	require.Equal(t, "active", text(t, browser, chromedp.CSS(jane+" .status")))

	// Jane signs in to the product in this browser (the demo button), then Entra disables her.
	require.NoError(t, chromedp.Do(browser,
		chromedp.Click(chromedp.CSS(jane+" button.sign-in")),
		chromedp.WaitVisible(chromedp.ID("signed-in")),
	))
	require.Contains(t, text(t, browser, chromedp.ID("signed-in")), "jane@contoso.com")
	require.Equal(t, 1, ta.sessions(t, "acme", id))

	patchUser(t, tenantURL, token, id, entraDisable)
	ta.waitNoSessions(t, "acme", id)
	require.NoError(t, chromedp.Do(browser, chromedp.Navigate(ta.url+"/admin/users")))
	require.Equal(t, "inactive", text(t, browser, chromedp.CSS(jane+" .status")))
	require.NoError(t, chromedp.Do(browser,
		chromedp.Navigate(ta.url+"/app"),
		chromedp.WaitVisible(chromedp.ID("signed-out")),
	), "the product page shows the session revoked")
}

// text reads the text of the element sel selects in the browser's page.
func text[S chromedp.Selectable](t *testing.T, browser context.Context, sel S) string {
	t.Helper()
	s, err := chromedp.Run(browser, chromedp.Text(sel))
	require.NoError(t, err)
	return strings.TrimSpace(s)
}

// findChromium returns the Chromium binary to drive, or "" when there is none.
func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	return ""
}

// client is a cookie-keeping HTTP client standing in for an admin's browser.
type client struct {
	t       *testing.T
	c       *http.Client
	base    string
	lastURL string
}

func newClient(t *testing.T, base string) *client {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &client{t: t, c: &http.Client{Jar: jar}, base: base}
}

func (c *client) get(path string) (int, string) {
	req, err := http.NewRequestWithContext(c.t.Context(), http.MethodGet, c.base+path, nil)
	require.NoError(c.t, err)
	return c.do(req)
}

func (c *client) post(path string, form url.Values) (int, string) {
	req, err := http.NewRequestWithContext(c.t.Context(), http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	require.NoError(c.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

func (c *client) do(req *http.Request) (int, string) {
	c.t.Helper()
	resp, err := c.c.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	c.lastURL = resp.Request.URL.String()
	return resp.StatusCode, string(b)
}

// match returns the first group of pattern in s, failing the test when it does not match.
func match(t *testing.T, s, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	require.NotNil(t, m, "no %s in the page", pattern)
	return m[1]
}

// testWriter sends the app's log to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestTeamsPage pushes groups as Entra does (POST /Groups, then membership PATCHes) and reads them back on
// the admin's teams page: names from the identity provider are escaped, members follow adds and removes,
// and another account sees none of them.
func TestTeamsPage(t *testing.T) {
	ta := startApp(t)
	admin, csrf := ta.signIn(t, "acme-admin")
	tok := token(t, admin, csrf)
	tenantURL := ta.url + "/scim/v2"

	_, body := admin.get("/admin/groups")
	require.Contains(t, body, `id="no-groups"`)

	jane := provisionJane(t, tenantURL, tok)
	status, doc := scimCall(t, http.MethodPost, tenantURL+"/Users", tok,
		`{"userName":"bob@contoso.com","displayName":"Bob <b>Builder</b>","active":true}`)
	require.Equal(t, http.StatusCreated, status, "%v", doc)
	bob := doc["id"].(string)

	// Entra's group create, then its default-mode member PATCHes (GROUPS.md).
	const name = `<script>alert("x")</script> & Admins`
	status, doc = scimCall(t, http.MethodPost, tenantURL+"/Groups", tok,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group","http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],`+
			`"externalId":"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159","displayName":"<script>alert(\"x\")</script> & Admins","meta":{"resourceType":"Group"}}`)
	require.Equal(t, http.StatusCreated, status, "%v", doc)
	group := doc["id"].(string)
	members := func(op string, ids ...string) string {
		var vs []string
		for _, id := range ids {
			vs = append(vs, `{"$ref":null,"value":"`+id+`"}`)
		}
		return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"` + op +
			`","path":"members","value":[` + strings.Join(vs, ",") + `]}]}`
	}
	status, doc = scimCall(t, http.MethodPatch, tenantURL+"/Groups/"+group, tok, members("Add", jane, bob))
	require.Equal(t, http.StatusNoContent, status, "%v", doc)
	// Okta's create carries no externalId and no members.
	status, doc = scimCall(t, http.MethodPost, tenantURL+"/Groups", tok,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Support","members":[]}`)
	require.Equal(t, http.StatusCreated, status, "%v", doc)

	status, body = admin.get("/admin/groups")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "2 group(s) pushed into Acme")
	row := match(t, body, `(?s)(<tr data-group="`+group+`">.*?</tr>)`)
	require.Contains(t, row, `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Admins`)
	require.Contains(t, row, "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159")
	require.Contains(t, row, "<li>Jane Doe</li>")
	require.Contains(t, row, "<li>Bob &lt;b&gt;Builder&lt;/b&gt;</li>")
	require.NotContains(t, body, name, "the identity provider's text is escaped")
	require.NotContains(t, body, "<script")
	require.NotContains(t, body, "<b>Builder")
	require.Regexp(t, `(?s)>Support<.*?no members`, body)

	// Entra's Remove with a value list removes exactly the listed member.
	status, doc = scimCall(t, http.MethodPatch, tenantURL+"/Groups/"+group, tok, members("Remove", bob))
	require.Equal(t, http.StatusNoContent, status, "%v", doc)
	_, body = admin.get("/admin/groups")
	row = match(t, body, `(?s)(<tr data-group="`+group+`">.*?</tr>)`)
	require.Contains(t, row, "<li>Jane Doe</li>")
	require.NotContains(t, row, "Builder")

	// A deleted user leaves its groups.
	status, _ = scimCall(t, http.MethodDelete, tenantURL+"/Users/"+jane, tok, "")
	require.Equal(t, http.StatusNoContent, status)
	_, body = admin.get("/admin/groups")
	require.Regexp(t, `(?s)<tr data-group="`+group+`">.*?no members.*?</tr>`, body)

	// Globex's admin sees none of Acme's groups.
	globex, _ := ta.signIn(t, "globex-admin")
	_, body = globex.get("/admin/groups")
	require.Contains(t, body, `id="no-groups"`)
	require.NotContains(t, body, "Admins")
}
