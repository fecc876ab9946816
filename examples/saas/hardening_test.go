package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
)

// signIn signs a new browser in as login and returns it with the session's CSRF token.
func (ta *testApp) signIn(t *testing.T, login string) (*client, string) {
	t.Helper()
	c := newClient(t, ta.url)
	status, body := c.post("/login", url.Values{"login": {login}, "password": {ta.admins[login]}})
	require.Equal(t, http.StatusOK, status, body)
	return c, match(t, body, `name="csrf" value="([^"]+)"`)
}

// token generates a SCIM token for the admin's account.
func token(t *testing.T, admin *client, csrf string) string {
	t.Helper()
	_, body := admin.post("/admin/tokens", url.Values{"csrf": {csrf}})
	return match(t, body, `id="token">([^<]+)<`)
}

// userBrowser is a new browser in which the admin's "Sign in as" button signed in the user id.
func (ta *testApp) userBrowser(t *testing.T, admin *client, csrf, id string) *client {
	t.Helper()
	u := newClient(t, ta.url)
	base, _ := url.Parse(ta.url)
	u.c.Jar.SetCookies(base, admin.c.Jar.Cookies(base))
	status, body := u.post("/admin/users/"+id+"/sign-in", url.Values{"csrf": {csrf}})
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, `id="signed-in"`)
	return u
}

// postLogin sends the sign-in form with the given extra headers, as a browser on another site would, and
// does not follow the redirect.
func postLogin(t *testing.T, h http.Handler, remoteAddr, login, password string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	form := url.Values{"login": {login}, "password": {password}}
	req := httptest.NewRequest(http.MethodPost, "http://app.example.com/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = remoteAddr
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestLoginCSRF: an attacker's page cannot post the sign-in form, so it cannot sign the victim's browser into
// the attacker's account; the app's own form can.
func TestLoginCSRF(t *testing.T) {
	ta := startApp(t)
	h := ta.handler()
	for name, header := range map[string]map[string]string{
		"Sec-Fetch-Site":     {"Sec-Fetch-Site": "cross-site"},
		"same-site":          {"Sec-Fetch-Site": "same-site"},
		"Origin only":        {"Origin": "https://attacker.example"},
		"Origin and no Sec-": {"Origin": "http://app.example.com.attacker.example"},
	} {
		t.Run(name, func(t *testing.T) {
			rec := postLogin(t, h, "192.0.2.1:1234", "acme-admin", ta.admins["acme-admin"], header)
			require.Equal(t, http.StatusForbidden, rec.Code)
			require.Empty(t, rec.Result().Cookies(), "no session for a cross-origin sign-in")
		})
	}
	for name, header := range map[string]map[string]string{
		"Sec-Fetch-Site": {"Sec-Fetch-Site": "same-origin", "Origin": "http://app.example.com"},
		"Origin":         {"Origin": "http://app.example.com"},
		"typed URL":      {"Sec-Fetch-Site": "none"},
	} {
		t.Run("allowed/"+name, func(t *testing.T) {
			rec := postLogin(t, h, "192.0.2.1:1234", "acme-admin", ta.admins["acme-admin"], header)
			require.Equal(t, http.StatusSeeOther, rec.Code)
			require.NotEmpty(t, rec.Result().Cookies())
		})
	}
	// The admin forms are checked the same way, on top of their CSRF token.
	admin, csrf := ta.signIn(t, "acme-admin")
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, ta.url+"/admin/tokens",
		strings.NewReader(url.Values{"csrf": {csrf}}.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	status, _ := admin.do(req)
	require.Equal(t, http.StatusForbidden, status)
}

// TestLoginThrottling: failed sign-ins back off per (login, client address), attempts are counted per client
// address, and password checks run in a pool of bounded size; each refusal is a 429 with Retry-After, before
// any hashing.
func TestLoginThrottling(t *testing.T) {
	ta := startApp(t)
	h := ta.handler()
	const ip = "192.0.2.1:1234"

	t.Run("per login and address", func(t *testing.T) {
		ta.logins = newLoginGuard(10_000, freeFailures, 4) // the address's own budget out of the way
		const attacker, admin = "203.0.113.7:1", "198.51.100.20:1"
		for range freeFailures {
			require.Equal(t, http.StatusUnauthorized, postLogin(t, h, attacker, "acme-admin", "wrong", nil).Code)
		}
		// The attacker now waits, even with the right password...
		rec := postLogin(t, h, attacker, "acme-admin", ta.admins["acme-admin"], nil)
		require.Equal(t, http.StatusTooManyRequests, rec.Code)
		require.Equal(t, "1", rec.Header().Get("Retry-After"))
		require.Contains(t, rec.Body.String(), "Too many sign-in attempts")
		// ...but the admin, from another address, is not locked out: it signs in, and its own failures count
		// apart from the attacker's.
		require.Equal(t, http.StatusSeeOther, postLogin(t, h, admin, "acme-admin", ta.admins["acme-admin"], nil).Code)
		require.Equal(t, http.StatusUnauthorized, postLogin(t, h, admin, "acme-admin", "typo", nil).Code)
		require.Equal(t, http.StatusSeeOther, postLogin(t, h, admin, "acme-admin", ta.admins["acme-admin"], nil).Code)

		// Each further failure of the attacker doubles its wait, up to backoffMax; a try before the wait is
		// over is refused and does not shorten it.
		wait := backoffBase
		for range 14 {
			rec := postLogin(t, h, attacker, "acme-admin", "wrong", nil)
			require.Equal(t, http.StatusTooManyRequests, rec.Code)
			require.Equal(t, retryAfter(wait), rec.Header().Get("Retry-After"))
			if wait > time.Second {
				ta.clock.Advance(wait - time.Second)
				rec = postLogin(t, h, attacker, "acme-admin", "wrong", nil)
				require.Equal(t, http.StatusTooManyRequests, rec.Code)
				require.Equal(t, "1", rec.Header().Get("Retry-After"))
				ta.clock.Advance(time.Second)
			} else {
				ta.clock.Advance(wait)
			}
			require.Equal(t, http.StatusUnauthorized, postLogin(t, h, attacker, "acme-admin", "wrong", nil).Code)
			wait = min(2*wait, backoffMax)
			// Meanwhile the admin still signs in from its own address.
			require.Equal(t, http.StatusSeeOther, postLogin(t, h, admin, "acme-admin", ta.admins["acme-admin"], nil).Code)
		}
		require.Equal(t, backoffMax, wait, "the wait reached its cap")
		require.Equal(t, retryAfter(backoffMax), postLogin(t, h, attacker, "acme-admin", "wrong", nil).Header().Get("Retry-After"))

		// Another login from the attacker's address is not delayed; an unknown login backs off the same
		// way as a real one, so a 429 does not tell which logins exist.
		require.Equal(t, http.StatusSeeOther, postLogin(t, h, attacker, "globex-admin", ta.admins["globex-admin"], nil).Code)
		for range freeFailures {
			require.Equal(t, http.StatusUnauthorized, postLogin(t, h, attacker, "nobody", "wrong", nil).Code)
		}
		require.Equal(t, http.StatusTooManyRequests, postLogin(t, h, attacker, "nobody", "x", nil).Code)

		// Once its wait is over, the right password from that address signs in and clears the pair.
		ta.clock.Advance(backoffMax)
		require.Equal(t, http.StatusSeeOther, postLogin(t, h, attacker, "acme-admin", ta.admins["acme-admin"], nil).Code)
		for range freeFailures {
			require.Equal(t, http.StatusUnauthorized, postLogin(t, h, attacker, "acme-admin", "wrong", nil).Code)
		}
		ta.clock.Advance(backoffBase)
		require.Equal(t, http.StatusUnauthorized, postLogin(t, h, attacker, "acme-admin", "wrong", nil).Code)
		// A pair quiet for backoffForget is forgotten: it has its free failures again.
		ta.clock.Advance(backoffForget)
		for range freeFailures {
			require.Equal(t, http.StatusUnauthorized, postLogin(t, h, attacker, "acme-admin", "wrong", nil).Code)
		}
		require.Equal(t, http.StatusTooManyRequests, postLogin(t, h, attacker, "acme-admin", "wrong", nil).Code)
	})

	t.Run("per address", func(t *testing.T) {
		ta.logins = newLoginGuard(3, 100, 4)
		for i := range 3 {
			require.Equal(t, http.StatusUnauthorized, postLogin(t, h, ip, fmt.Sprintf("guess%d", i), "wrong", nil).Code)
		}
		rec := postLogin(t, h, ip, "acme-admin", ta.admins["acme-admin"], nil)
		require.Equal(t, http.StatusTooManyRequests, rec.Code)
		require.NotEmpty(t, rec.Header().Get("Retry-After"))
		require.Equal(t, http.StatusSeeOther, postLogin(t, h, "192.0.2.2:1234", "acme-admin", ta.admins["acme-admin"], nil).Code)

		// An IPv6 host owns its /64: its addresses share one count.
		for i := range 3 {
			postLogin(t, h, fmt.Sprintf("[2001:db8:1:2::%x]:1", i+1), "guess", "wrong", nil)
		}
		require.Equal(t, http.StatusTooManyRequests,
			postLogin(t, h, "[2001:db8:1:2:ffff::1]:1", "acme-admin", ta.admins["acme-admin"], nil).Code)
		require.Equal(t, http.StatusSeeOther,
			postLogin(t, h, "[2001:db8:1:3::1]:1", "acme-admin", ta.admins["acme-admin"], nil).Code)
	})

	t.Run("hashing pool", func(t *testing.T) {
		ta.logins = newLoginGuard(100, 1, 1)
		ta.logins.hashing <- struct{}{} // the only slot is busy
		for range 5 {
			rec := postLogin(t, h, ip, "acme-admin", ta.admins["acme-admin"], nil)
			require.Equal(t, http.StatusTooManyRequests, rec.Code)
			require.Equal(t, "1", rec.Header().Get("Retry-After"))
		}
		<-ta.logins.hashing
		// The turned-away attempts were not counted as failures (one is free): the right password signs in.
		require.Equal(t, http.StatusSeeOther, postLogin(t, h, ip, "acme-admin", ta.admins["acme-admin"], nil).Code)
		require.Equal(t, http.StatusUnauthorized, postLogin(t, h, ip, "acme-admin", "wrong", nil).Code)
		require.Equal(t, http.StatusTooManyRequests, postLogin(t, h, ip, "acme-admin", ta.admins["acme-admin"], nil).Code)
	})
}

// TestWindowIsBounded: the throttling tables never hold more than their size, however many addresses or
// logins an attacker uses, and keep the entries that still count.
func TestWindowIsBounded(t *testing.T) {
	w := newWindow(2, time.Minute, 100)
	now := time.Now()
	_, ok := w.take("victim", now)
	require.True(t, ok)
	_, ok = w.take("victim", now)
	require.True(t, ok)
	for i := range 1000 {
		_, ok := w.take(fmt.Sprint("spray", i), now.Add(time.Duration(i+1)*time.Millisecond))
		require.True(t, ok)
		require.LessOrEqual(t, len(w.entries), 100)
	}
	_, ok = w.take("spray999", now.Add(time.Second))
	require.True(t, ok, "a recent entry is kept")
	require.Len(t, w.entries, 100)
	w.take("later", now.Add(2*time.Minute)) // every window is over: all swept
	require.Len(t, w.entries, 1)
}

// TestBackoffIsBounded: the back-off table holds only keys that failed, never more than its size however
// many addresses or logins an attacker uses, keeps the entries that still count, and holds a backing-off key
// while an attempt of it runs, so concurrent attempts are not all checked.
func TestBackoffIsBounded(t *testing.T) {
	b := newBackoff(1, time.Second, time.Hour, 24*time.Hour, 100)
	now := time.Now()
	_, ok := b.take("victim", now)
	require.True(t, ok)
	b.settle("ok", true, now)
	require.Empty(t, b.entries, "a success leaves nothing")
	b.settle("victim", false, now)
	_, ok = b.take("victim", now.Add(time.Second))
	require.True(t, ok)
	retry, ok := b.take("victim", now.Add(time.Second))
	require.False(t, ok, "a second attempt while the first runs waits")
	require.Equal(t, time.Second, retry)
	b.settle("victim", false, now.Add(time.Second))
	for i := range 1000 {
		b.settle(fmt.Sprint("spray", i), false, now.Add(time.Duration(i+2)*time.Second))
		require.LessOrEqual(t, len(b.entries), 100)
	}
	require.Len(t, b.entries, 100)
	require.Contains(t, b.entries, "spray999", "a recent entry is kept")
	require.NotContains(t, b.entries, "victim", "the one quiet the longest made room")
	b.settle("later", false, now.Add(48*time.Hour)) // every entry is forgotten: all swept
	require.Len(t, b.entries, 1)
	require.Equal(t, time.Hour, b.wait(1000), "the wait is capped, with no overflow")
}

// TestSecurityHeaders: every page forbids sniffing, framing, caching and anything but its own style; over
// https the cookies are Secure and HSTS is on; over plain http neither is claimed.
func TestSecurityHeaders(t *testing.T) {
	ta := startApp(t)
	admin, _ := ta.signIn(t, "acme-admin")
	for _, path := range []string{"/login", "/admin", "/admin/users", "/admin/groups", "/app"} {
		resp, err := admin.c.Get(ta.url + path)
		require.NoError(t, err)
		var body bytes.Buffer
		_, _ = body.ReadFrom(resp.Body)
		resp.Body.Close()
		h := resp.Header
		require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"), path)
		require.Equal(t, "no-store", h.Get("Cache-Control"), path)
		require.Equal(t, "DENY", h.Get("X-Frame-Options"), path)
		require.Empty(t, h.Get("Strict-Transport-Security"), "no HSTS over http")
		csp := h.Get("Content-Security-Policy")
		require.Contains(t, csp, "default-src 'none'")
		require.Contains(t, csp, "frame-ancestors 'none'")
		// The policy's hash is the page's inline style, or a browser would not style the page.
		style := match(t, body.String(), `(?s)<style>(.*?)</style>`)
		sum := sha256.Sum256([]byte(style))
		require.Contains(t, csp, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'", path)
		require.NotContains(t, body.String(), "<script", path)
	}
	for _, c := range newClient(t, ta.url).loginCookies(t, ta) {
		require.False(t, c.Secure, "a Secure cookie would never come back over http")
	}

	// Behind an https -base-url (a TLS-terminating proxy that talks http to the app).
	db, err := openDB(filepath.Join(t.TempDir(), "saas.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	a, err := newApp(t.Context(), db, slog.New(slog.NewTextHandler(testWriter{t}, nil)), "https://app.example.com")
	require.NoError(t, err)
	a.passwordIter = 1000
	admins, err := a.seedDemo(t.Context())
	require.NoError(t, err)
	h := a.handler()
	rec := postLogin(t, h, "192.0.2.1:1", "acme-admin", admins[0].password, map[string]string{"Origin": "https://app.example.com"})
	require.Equal(t, http.StatusSeeOther, rec.Code, "the public origin is trusted behind the proxy")
	require.NotEmpty(t, rec.Result().Cookies())
	for _, c := range rec.Result().Cookies() {
		require.True(t, c.Secure, c.Name)
		require.True(t, c.HttpOnly, c.Name)
	}
	require.Contains(t, rec.Header().Get("Strict-Transport-Security"), "max-age=")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/scim/v2/Users", nil))
	require.Equal(t, http.StatusUnauthorized, rec.Code)
	require.Contains(t, rec.Header().Get("Strict-Transport-Security"), "max-age=", "SCIM answers too")
	require.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
}

// loginCookies signs in as acme-admin without following the redirect and returns the cookies set.
func (c *client) loginCookies(t *testing.T, ta *testApp) []*http.Cookie {
	t.Helper()
	noFollow := *c.c
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.PostForm(ta.url+"/login", url.Values{"login": {"acme-admin"}, "password": {ta.admins["acme-admin"]}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.NotEmpty(t, resp.Cookies())
	return resp.Cookies()
}

// TestSessionExpiry: admin and user sessions end when unused for their idle time, and after their absolute
// lifetime however busy.
func TestSessionExpiry(t *testing.T) {
	ta := startApp(t)
	signedIn := func(c *client) bool {
		_, body := c.get("/admin")
		return strings.Contains(body, "Integrations")
	}

	admin, _ := ta.signIn(t, "acme-admin")
	ta.clock.Advance(adminIdle - time.Minute)
	require.True(t, signedIn(admin), "used within the idle time")
	ta.clock.Advance(adminIdle - time.Minute)
	require.True(t, signedIn(admin), "each use keeps it alive")
	ta.clock.Advance(adminIdle + time.Second)
	require.False(t, signedIn(admin), "idle too long")
	require.Contains(t, admin.lastURL, "/login")

	admin, csrf := ta.signIn(t, "acme-admin")
	elapsed := time.Duration(0)
	for ; elapsed+adminIdle/2 < adminMaxAge; elapsed += adminIdle / 2 {
		ta.clock.Advance(adminIdle / 2)
		require.True(t, signedIn(admin), "busy for %s", elapsed)
	}
	ta.clock.Advance(adminIdle / 2) // past adminMaxAge
	require.False(t, signedIn(admin), "older than %s", adminMaxAge)

	// A provisioned user's session in the product.
	admin, csrf = ta.signIn(t, "acme-admin")
	id := provisionJane(t, ta.url+"/scim/v2", token(t, admin, csrf))
	jane := ta.userBrowser(t, admin, csrf, id)
	ta.clock.Advance(userIdle - time.Minute)
	_, body := jane.get("/app")
	require.Contains(t, body, `id="signed-in"`)
	ta.clock.Advance(userIdle + time.Second)
	_, body = jane.get("/app")
	require.Contains(t, body, `id="signed-out"`, "idle too long")

	admin, csrf = ta.signIn(t, "acme-admin") // the admin's own session was idle meanwhile
	jane = ta.userBrowser(t, admin, csrf, id)
	for elapsed = 0; elapsed+userIdle/2 < userMaxAge; elapsed += userIdle / 2 {
		ta.clock.Advance(userIdle / 2)
		_, body = jane.get("/app")
		require.Contains(t, body, `id="signed-in"`, "busy for %s", elapsed)
	}
	ta.clock.Advance(userIdle / 2) // past userMaxAge
	_, body = jane.get("/app")
	require.Contains(t, body, `id="signed-out"`, "older than %s", userMaxAge)
}

// TestRenameThenDeactivate: a rename followed at once by a deactivation, on two connections, for 30 users.
// Whatever order the writes and their events land in, every session ends: sessions are keyed by the SCIM
// id, which a rename does not change. (Keyed by userName, a session could move to the new name after the
// revocation for the old one had run.)
func TestRenameThenDeactivate(t *testing.T) {
	ta := startApp(t)
	admin, csrf := ta.signIn(t, "acme-admin")
	tok, tenantURL := token(t, admin, csrf), ta.url+"/scim/v2"
	const users = 30
	ids, browsers := make([]string, users), make([]*client, users)
	for i := range users {
		status, doc := scimCall(t, http.MethodPost, tenantURL+"/Users", tok,
			fmt.Sprintf(`{"userName":"user%d@contoso.com","active":true}`, i))
		require.Equal(t, http.StatusCreated, status)
		ids[i] = doc["id"].(string)
		browsers[i] = ta.userBrowser(t, admin, csrf, ids[i])
	}

	// patch runs on its own goroutine, where require cannot stop the test: it reports what it got. Like
	// Entra ID, it comes back after Retry-After when the tenant's concurrency limit answers 429 (60 requests
	// at once are over it).
	patch := func(id, body string) string {
		for {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPatch, tenantURL+"/Users/"+id, strings.NewReader(body))
			if err != nil {
				return err.Error()
			}
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Content-Type", "application/scim+json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return err.Error()
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusTooManyRequests {
				return resp.Status
			}
			secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			time.Sleep(time.Duration(max(secs, 1)) * time.Second)
		}
	}
	renamed, disabled := make([]string, users), make([]string, users)
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			renamed[i] = patch(id, fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
				"Operations":[{"op":"Replace","path":"userName","value":"renamed%d@contoso.com"}]}`, i))
		})
		wg.Go(func() { disabled[i] = patch(id, entraDisable) })
	}
	wg.Wait()
	for i := range users {
		require.Equal(t, "200 OK", renamed[i], "rename %d", i)
		require.Equal(t, "200 OK", disabled[i], "deactivation %d", i)
	}
	for i, id := range ids {
		ta.waitNoSessions(t, "acme", id)
		_, body := browsers[i].get("/app")
		require.Contains(t, body, `id="signed-out"`, "user %d", i)
	}
}

// TestDeactivationWithoutEvent: the product checks the user is still active at every request, so a
// deactivation ends the session even when no event revoked it (a lost event, a change made outside SCIM).
// A rename, on the other hand, keeps the session and shows the new name.
func TestDeactivationWithoutEvent(t *testing.T) {
	ta := startApp(t)
	admin, csrf := ta.signIn(t, "acme-admin")
	id := provisionJane(t, ta.url+"/scim/v2", token(t, admin, csrf))
	jane := ta.userBrowser(t, admin, csrf, id)
	ctx := scim.ContextWithTenant(context.Background(), "acme")

	replace := func(change func(u *scim.User)) {
		u, err := ta.store.Get(ctx, id)
		require.NoError(t, err)
		c := *u
		change(&c)
		_, err = ta.store.Replace(ctx, &c, u.Meta.Version)
		require.NoError(t, err)
	}
	replace(func(u *scim.User) { u.UserName = "jane.doe@contoso.com" }) // the Store directly: no event
	_, body := jane.get("/app")
	require.Contains(t, body, "jane.doe@contoso.com", "the session follows the user, not the name")

	inactive := false
	replace(func(u *scim.User) { u.Active = &inactive })
	require.Equal(t, 1, ta.sessions(t, "acme", id), "no event revoked it")
	_, body = jane.get("/app")
	require.Contains(t, body, `id="signed-out"`)
	require.Equal(t, 0, ta.sessions(t, "acme", id), "the request found the user inactive and ended the session")
}

// TestNoSecretsOnStdout: the demo passwords go to a file only the operator can read; stdout says where.
func TestNoSecretsOnStdout(t *testing.T) {
	dir := t.TempDir()
	credentials := filepath.Join(dir, "saas-admins.txt")
	ctx, cancel := context.WithCancel(t.Context())
	var stdout bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, config{addr: "127.0.0.1:0", dbPath: filepath.Join(dir, "saas.db"), credentials: credentials},
			slog.New(slog.NewTextHandler(testWriter{t}, nil)), &stdout)
	}()
	require.Eventually(t, func() bool {
		_, err := os.Stat(credentials)
		return err == nil
	}, 30*time.Second, 20*time.Millisecond)
	cancel()
	require.NoError(t, <-done)

	info, err := os.Stat(credentials)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	raw, err := os.ReadFile(credentials)
	require.NoError(t, err)
	passwords := regexp.MustCompile(`password (\S+)`).FindAllStringSubmatch(string(raw), -1)
	require.Len(t, passwords, 2)
	out := stdout.String()
	require.Contains(t, out, credentials)
	require.Regexp(t, `SaaS example app: http://127\.0\.0\.1:\d+ `, out)
	for _, p := range passwords {
		require.NotContains(t, out, p[1])
	}
}
