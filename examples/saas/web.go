package main

import (
	"bytes"
	"cmp"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scimkit/scim"
)

// The app's cookies. Both are HttpOnly and SameSite=Lax, Secure when the app is served over https; their
// values are random ids whose SHA-256 is the session row's key.
const (
	adminCookie = "saas_admin" // an account admin on the app's admin pages
	userCookie  = "saas_user"  // a provisioned user in the product (/app)
)

// maxLoginForm bounds the sign-in form's body: a login and a password, not the 10 MB ParseForm accepts.
const maxLoginForm = 4 << 10

// adminSession is the signed-in admin of a request.
type adminSession struct {
	IDHash      string // the session's key: the SHA-256 of its cookie
	Login       string // the admin's login
	AccountID   string // the admin's account: the SCIM tenant of its users
	AccountName string
	CSRF        string // the session's CSRF token, which every POST form carries
}

// admin wraps a handler that needs a signed-in admin: without a valid session it redirects to /login, and a
// POST must carry the session's CSRF token.
func (a *app) admin(next func(http.ResponseWriter, *http.Request, *adminSession)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := a.adminSession(r)
		if err != nil {
			a.serverError(w, r, err)
			return
		}
		if s == nil {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost && subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(s.CSRF)) != 1 {
			http.Error(w, "invalid or missing CSRF token: reload the page and try again", http.StatusForbidden)
			return
		}
		next(w, r, s)
	}
}

// adminSession returns the request's admin session, or nil when there is none, it was unused for adminIdle
// or it is older than adminMaxAge. Using it keeps it alive, up to its absolute expiry.
func (a *app) adminSession(r *http.Request) (*adminSession, error) {
	c, err := r.Cookie(adminCookie)
	if err != nil {
		return nil, nil
	}
	now := a.now()
	s := &adminSession{IDHash: sha256Hex(c.Value)}
	var lastSeen string
	err = a.db.QueryRowContext(r.Context(), `
		SELECT s.csrf, s.last_seen, ad.login, acc.id, acc.name
		FROM admin_sessions s JOIN admins ad ON ad.id = s.admin_id JOIN accounts acc ON acc.id = ad.account_id
		WHERE s.id_hash = ? AND s.expires > ? AND s.last_seen > ?`,
		s.IDHash, timestamp(now), timestamp(now.Add(-adminIdle))).
		Scan(&s.CSRF, &lastSeen, &s.Login, &s.AccountID, &s.AccountName)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if lastSeen < timestamp(now.Add(-touchEvery)) {
		if _, err := a.db.ExecContext(r.Context(), `UPDATE admin_sessions SET last_seen = ? WHERE id_hash = ?`,
			timestamp(now), s.IDHash); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (a *app) home(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/admin", http.StatusSeeOther)
}

func (a *app) loginPage(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "login", map[string]any{"Title": "Sign in"})
}

// login checks an admin's password and starts a session. Cross-origin posts never get here (handler), and
// the attempts are throttled (loginGuard) before any password is hashed.
func (a *app) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginForm)
	login := strings.TrimSpace(r.PostFormValue("login"))
	now := a.now()
	done, retry := a.logins.admit(r, login, now)
	if done == nil {
		w.Header().Set("Retry-After", retryAfter(retry))
		a.render(w, r, http.StatusTooManyRequests, "login", map[string]any{
			"Title": "Sign in", "Login": login,
			"Error": "Too many sign-in attempts. Try again in " + retryAfter(retry) + " seconds."})
		return
	}
	ok, adminID, err := a.checkAdmin(r, login)
	done(ok)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	if !ok {
		a.render(w, r, http.StatusUnauthorized, "login", map[string]any{
			"Title": "Sign in", "Login": login, "Error": "Wrong login or password."})
		return
	}
	id := randomString(32)
	_, err = a.db.ExecContext(r.Context(), `DELETE FROM admin_sessions WHERE expires <= ? OR last_seen <= ?`,
		timestamp(now), timestamp(now.Add(-adminIdle)))
	if err == nil {
		_, err = a.db.ExecContext(r.Context(), `INSERT INTO admin_sessions (id_hash, admin_id, csrf, last_seen, expires)
			VALUES (?, ?, ?, ?, ?)`, sha256Hex(id), adminID, randomString(32), timestamp(now), timestamp(now.Add(adminMaxAge)))
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	a.setCookie(w, r, adminCookie, id, adminMaxAge)
	http.Redirect(w, r, "/admin", http.StatusSeeOther)
}

// checkAdmin checks the password of the form against login's, and returns the admin's id when it matches.
func (a *app) checkAdmin(r *http.Request, login string) (bool, int64, error) {
	var adminID int64
	var hash string
	err := a.db.QueryRowContext(r.Context(), `SELECT id, password_hash FROM admins WHERE login = ?`, login).
		Scan(&adminID, &hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, 0, err
	}
	// An unknown login costs the same hashing as a wrong password: no timing oracle for logins.
	if !a.checkPassword(hash, r.PostFormValue("password")) || err != nil {
		return false, 0, nil
	}
	return true, adminID, nil
}

func (a *app) logout(w http.ResponseWriter, r *http.Request, s *adminSession) {
	if _, err := a.db.ExecContext(r.Context(), `DELETE FROM admin_sessions WHERE id_hash = ?`, s.IDHash); err != nil {
		a.serverError(w, r, err)
		return
	}
	a.setCookie(w, r, adminCookie, "", -1)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// tokenRow is a SCIM token as the admin page lists it.
type tokenRow struct {
	ID      int64
	Last4   string
	Created string
}

// adminPage is the account's admin page, whose Integrations section manages SCIM tokens.
func (a *app) adminPage(w http.ResponseWriter, r *http.Request, s *adminSession) {
	a.renderAdmin(w, r, s, "")
}

// renderAdmin renders the admin page; newToken, when set, is shown once.
func (a *app) renderAdmin(w http.ResponseWriter, r *http.Request, s *adminSession, newToken string) {
	rows, err := a.db.QueryContext(r.Context(), `SELECT id, last4, created FROM scim_tokens
		WHERE account_id = ? ORDER BY id`, s.AccountID)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	defer rows.Close()
	var tokens []tokenRow
	for rows.Next() {
		var t tokenRow
		if err := rows.Scan(&t.ID, &t.Last4, &t.Created); err != nil {
			a.serverError(w, r, err)
			return
		}
		tokens = append(tokens, t)
	}
	if err := rows.Err(); err != nil {
		a.serverError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "admin", map[string]any{
		"Title": s.AccountName + ": administration", "S": s, "Tokens": tokens, "NewToken": newToken,
		"TenantURL": a.publicURL(r) + "/scim/v2",
	})
}

// generateToken mints a SCIM token for the account, stores its hash and shows it once.
func (a *app) generateToken(w http.ResponseWriter, r *http.Request, s *adminSession) {
	token, hash := scim.MintToken()
	_, err := a.db.ExecContext(r.Context(), `INSERT INTO scim_tokens (account_id, token_hash, last4, created)
		VALUES (?, ?, ?, ?)`, s.AccountID, hash, token[len(token)-4:], timestamp(time.Now()))
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	a.log.InfoContext(r.Context(), "SCIM token generated", "account", s.AccountID, "admin", s.Login)
	a.renderAdmin(w, r, s, token)
}

// revokeToken deletes one of the account's SCIM tokens: the identity provider using it gets 401 from now on.
func (a *app) revokeToken(w http.ResponseWriter, r *http.Request, s *adminSession) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	if _, err := a.db.ExecContext(r.Context(), `DELETE FROM scim_tokens WHERE id = ? AND account_id = ?`,
		id, s.AccountID); err != nil {
		a.serverError(w, r, err)
		return
	}
	a.log.InfoContext(r.Context(), "SCIM token revoked", "account", s.AccountID, "admin", s.Login)
	http.Redirect(w, r, "/admin", http.StatusSeeOther)
}

// userRow is a provisioned user as the users page lists it.
type userRow struct {
	ID, UserName, DisplayName string
	Roles                     []string // the keys of the roles granted (roles.go)
	Active                    bool
	Sessions                  int
}

// usersListed is how many users the users page shows; a real app would page.
const usersListed = 500

// usersPage lists the account's provisioned users: the Store read with the account as tenant.
func (a *app) usersPage(w http.ResponseWriter, r *http.Request, s *adminSession) {
	page, err := a.store.List(scim.ContextWithTenant(r.Context(), s.AccountID), scim.Query{StartIndex: 1, Count: usersListed})
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	sessions := map[string]int{}
	now := a.now()
	rows, err := a.db.QueryContext(r.Context(), `SELECT user_id, count(*) FROM app_sessions
		WHERE account_id = ? AND expires > ? AND last_seen > ? GROUP BY user_id`,
		s.AccountID, timestamp(now), timestamp(now.Add(-userIdle)))
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var n int
		if err := rows.Scan(&key, &n); err != nil {
			a.serverError(w, r, err)
			return
		}
		sessions[key] = n
	}
	if err := rows.Err(); err != nil {
		a.serverError(w, r, err)
		return
	}
	users := make([]userRow, len(page.Users))
	for i, u := range page.Users {
		users[i] = userRow{ID: u.ID, UserName: u.UserName, DisplayName: u.DisplayName, Active: u.IsActive(),
			Sessions: sessions[u.ID]}
		for _, role := range u.Roles {
			users[i].Roles = append(users[i].Roles, role.Value)
		}
	}
	a.render(w, r, http.StatusOK, "users", map[string]any{
		"Title": s.AccountName + ": provisioned users", "S": s, "Users": users, "Total": page.TotalResults,
	})
}

// Bounds of the teams page: a real app would page groups, and page a large group's members with
// GET /Users?filter=groups.value eq "<id>" (or Store.List with the same filter).
const (
	groupsListed    = 200
	membersPerGroup = 100
)

// groupRow is one group of the teams page. Name and the members' names come from the identity provider:
// html/template escapes them like any other value.
type groupRow struct {
	ID, Name, ExternalID string
	Members              []string // the members' display names (displayName, else userName), else their ids
	More                 bool     // the group has more than membersPerGroup members: Members is empty
}

// groupsPage is the teams and roles page: the groups the account's identity provider pushed, with their
// members, read from the GroupStore (sqlstore's) with the account as tenant. ListGroups loads the members of
// groups of at most membersPerGroup and none of larger ones, so a group of 100,000 never loads whole here.
func (a *app) groupsPage(w http.ResponseWriter, r *http.Request, s *adminSession) {
	var gs scim.GroupStore = a.store
	page, err := gs.ListGroups(scim.ContextWithTenant(r.Context(), s.AccountID),
		scim.Query{StartIndex: 1, Count: groupsListed}, scim.GroupRead{MaxMembers: membersPerGroup})
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	groups := make([]groupRow, len(page.Groups))
	for i, g := range page.Groups {
		row := groupRow{ID: g.ID, Name: g.DisplayName, ExternalID: g.ExternalID, More: g.MembersOmitted}
		for _, m := range g.Members {
			row.Members = append(row.Members, cmp.Or(m.Display, m.Value))
		}
		slices.Sort(row.Members)
		groups[i] = row
	}
	a.render(w, r, http.StatusOK, "groups", map[string]any{
		"Title": s.AccountName + ": teams and roles", "S": s, "Groups": groups, "Total": page.TotalResults,
		"MembersPerGroup": membersPerGroup,
	})
}

// signInAs is the demo's stand-in for a provisioned user signing in to the product (by SSO, in a real app):
// it starts an app session for the user in this browser and opens /app. Inactive users cannot sign in.
func (a *app) signInAs(w http.ResponseWriter, r *http.Request, s *adminSession) {
	u, err := a.store.Get(scim.ContextWithTenant(r.Context(), s.AccountID), r.PathValue("id"))
	if errors.Is(err, scim.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	if !u.IsActive() {
		http.Error(w, "this user is deactivated and cannot sign in", http.StatusForbidden)
		return
	}
	id, now := randomString(32), a.now()
	_, err = a.db.ExecContext(r.Context(), `DELETE FROM app_sessions WHERE expires <= ? OR last_seen <= ?`,
		timestamp(now), timestamp(now.Add(-userIdle)))
	if err == nil {
		_, err = a.db.ExecContext(r.Context(), `INSERT INTO app_sessions (id_hash, account_id, user_id, last_seen, expires)
			VALUES (?, ?, ?, ?, ?)`, sha256Hex(id), s.AccountID, u.ID, timestamp(now), timestamp(now.Add(userMaxAge)))
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	a.setCookie(w, r, userCookie, id, userMaxAge)
	http.Redirect(w, r, "/app", http.StatusSeeOther)
}

// appPage is the product as a provisioned user sees it: signed in while their session lives and they are
// still active. The user is read from the Store at every request, by the session's user id: a deactivation
// or deletion ends the session here even if its event was lost, and the page shows the current userName.
func (a *app) appPage(w http.ResponseWriter, r *http.Request) {
	data := map[string]any{"Title": "The product"}
	u, account, err := a.appUser(r)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	if u != nil {
		data["UserName"], data["Account"] = u.UserName, account
	}
	a.render(w, r, http.StatusOK, "app", data)
}

// appUser returns the provisioned user signed in by the request's session and their account's name, or nil
// when there is no live session or its user is no longer active (the session is then deleted).
func (a *app) appUser(r *http.Request) (*scim.User, string, error) {
	c, err := r.Cookie(userCookie)
	if err != nil {
		return nil, "", nil
	}
	now, idHash := a.now(), sha256Hex(c.Value)
	var accountID, accountName, userID, lastSeen string
	err = a.db.QueryRowContext(r.Context(), `SELECT s.account_id, acc.name, s.user_id, s.last_seen
		FROM app_sessions s JOIN accounts acc ON acc.id = s.account_id
		WHERE s.id_hash = ? AND s.expires > ? AND s.last_seen > ?`,
		idHash, timestamp(now), timestamp(now.Add(-userIdle))).Scan(&accountID, &accountName, &userID, &lastSeen)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	u, err := a.store.Get(scim.ContextWithTenant(r.Context(), accountID), userID)
	if err != nil && !errors.Is(err, scim.ErrNotFound) {
		return nil, "", err
	}
	if err != nil || !u.IsActive() {
		_, err := a.db.ExecContext(r.Context(), `DELETE FROM app_sessions WHERE id_hash = ?`, idHash)
		return nil, "", err
	}
	if lastSeen < timestamp(now.Add(-touchEvery)) {
		if _, err := a.db.ExecContext(r.Context(), `UPDATE app_sessions SET last_seen = ? WHERE id_hash = ?`,
			timestamp(now), idHash); err != nil {
			return nil, "", err
		}
	}
	return u, accountName, nil
}

// publicURL is the app's URL as its users reach it: -base-url, or the request's scheme and host.
func (a *app) publicURL(r *http.Request) string {
	if a.baseURL != "" {
		return a.baseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// render executes a page template into a buffer first, so that a template error never sends half a page.
func (a *app) render(w http.ResponseWriter, r *http.Request, status int, page string, data map[string]any) {
	var b bytes.Buffer
	if err := a.pages.ExecuteTemplate(&b, page, data); err != nil {
		a.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

func (a *app) serverError(w http.ResponseWriter, r *http.Request, err error) {
	a.log.ErrorContext(r.Context(), "serving a page", "method", r.Method, "path", r.URL.Path, "error", err)
	http.Error(w, "internal server error", http.StatusInternalServerError)
}

// setCookie sets a session cookie: HttpOnly, SameSite=Lax, and Secure when the app is served over https
// (its -base-url, or TLS of its own), so that it is never sent in clear. maxAge 0 makes a browser-session
// cookie, a negative one deletes it; the server enforces the session's expiry either way.
func (a *app) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	c := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: a.https || r.TLS != nil}
	switch {
	case maxAge < 0:
		c.MaxAge = -1
	case maxAge > 0:
		c.MaxAge = int(maxAge / time.Second)
	}
	http.SetCookie(w, c)
}

// Passwords are stored as PBKDF2-HMAC-SHA256 (crypto/pbkdf2) with a random salt, in the form
// "pbkdf2-sha256$<iterations>$<salt>$<key>". 600,000 iterations is OWASP's recommendation for it.
const passwordIterations = 600_000

// hashPassword hashes a password with a new salt and the app's iteration count.
func (a *app) hashPassword(password string) (string, error) {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt) // crypto/rand.Read never fails (Go 1.24+)
	key, err := pbkdf2.Key(sha256.New, password, salt, a.passwordIter, 32)
	if err != nil {
		return "", err
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("pbkdf2-sha256$%d$%s$%s", a.passwordIter, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// checkPassword reports whether password matches the stored hash. A malformed or empty hash (an unknown
// login) matches nothing but costs the same work.
func (a *app) checkPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 4 || parts[0] != "pbkdf2-sha256" {
		parts = []string{"pbkdf2-sha256", strconv.Itoa(a.passwordIter), "", ""}
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter < 1 || iter > 10_000_000 {
		iter = a.passwordIter
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[2])
	want, err2 := enc.DecodeString(parts[3])
	got, err := pbkdf2.Key(sha256.New, password, salt, iter, 32)
	return err == nil && err1 == nil && err2 == nil && len(want) == 32 && subtle.ConstantTimeCompare(got, want) == 1
}
