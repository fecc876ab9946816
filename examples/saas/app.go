package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/sqlstore"
)

// app is the whole application: its database, the SCIM Store over the same database, the SCIM handler and
// the page templates. Every handler is a method, so there is no package-level state.
type app struct {
	db      *sql.DB
	store   *sqlstore.Store
	roles   rolesStore // the account's own roles, served read-only at /scim/v2/Roles
	scim    *scim.Handler
	log     *slog.Logger
	pages   *template.Template
	baseURL string // public URL of the app, "" to derive it from each request
	https   bool   // baseURL is https: cookies are Secure and browsers are told to keep to https (HSTS)
	// passwordIter is the PBKDF2 iteration count for new password hashes (passwordIterations; tests lower it).
	passwordIter int
	logins       *loginGuard
	// now is the clock of sessions and sign-in throttling; tests move it.
	now func() time.Time
}

// appSchemaVersion is the layout of the app's tables, kept in SQLite's user_version. Version 2 keys user
// sessions by SCIM id and gives every session an idle and an absolute expiry; older session tables are
// dropped (a session is cheap to lose: its owner signs in again). Version 3 adds app_roles.
const appSchemaVersion = 3

// appSchema is the app's own tables. sqlstore creates its own (scim_users, scim_migrations) beside them.
const appSchema = `
CREATE TABLE IF NOT EXISTS accounts (
	id      TEXT PRIMARY KEY,
	name    TEXT NOT NULL,
	created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS admins (
	id            INTEGER PRIMARY KEY,
	account_id    TEXT NOT NULL REFERENCES accounts(id),
	login         TEXT NOT NULL UNIQUE,
	password_hash TEXT NOT NULL
);
-- Sessions of the admins on the app's pages; id_hash is the SHA-256 of the cookie's value. A session ends at
-- expires (absolute) or when unused since last_seen for longer than adminIdle.
CREATE TABLE IF NOT EXISTS admin_sessions (
	id_hash   TEXT PRIMARY KEY,
	admin_id  INTEGER NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
	csrf      TEXT NOT NULL,
	last_seen TEXT NOT NULL,
	expires   TEXT NOT NULL
);
-- SCIM tokens: only their hash (scim.HashToken) and last four characters are kept.
CREATE TABLE IF NOT EXISTS scim_tokens (
	id         INTEGER PRIMARY KEY,
	account_id TEXT NOT NULL REFERENCES accounts(id),
	token_hash TEXT NOT NULL UNIQUE,
	last4      TEXT NOT NULL,
	created    TEXT NOT NULL
);
-- Sessions of the account's users (the people the identity provider provisions) in the product itself.
-- user_id is the user's SCIM id, which never changes: a userName can be renamed at any moment, so a session
-- keyed by it could follow a rename past the revocation meant for it.
CREATE TABLE IF NOT EXISTS app_sessions (
	id_hash    TEXT PRIMARY KEY,
	account_id TEXT NOT NULL REFERENCES accounts(id),
	user_id    TEXT NOT NULL,
	last_seen  TEXT NOT NULL,
	expires    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS app_sessions_user ON app_sessions (account_id, user_id);
-- The roles an account defines (roles.go): id is the key a grant names ("editor"), unique per account.
CREATE TABLE IF NOT EXISTS app_roles (
	account_id  TEXT NOT NULL REFERENCES accounts(id),
	id          TEXT NOT NULL,
	name        TEXT NOT NULL,
	kind        TEXT NOT NULL DEFAULT '', -- the Role's "type" (Okta's grouping of roles)
	description TEXT NOT NULL DEFAULT '',
	external_id TEXT NOT NULL DEFAULT '',
	version     INTEGER NOT NULL,
	created     TEXT NOT NULL,
	modified    TEXT NOT NULL,
	PRIMARY KEY (account_id, id)
);
`

// Session lifetimes: a session ends when unused for the idle time, and at the latest after the absolute one,
// however busy, so that a stolen cookie does not last forever.
const (
	adminIdle   = 30 * time.Minute
	adminMaxAge = 12 * time.Hour
	userIdle    = 2 * time.Hour
	userMaxAge  = 24 * time.Hour
	// touchEvery is how stale last_seen may get before a request writes it again: one write per session per
	// minute rather than one per request.
	touchEvery = time.Minute
)

// migrate creates the app's tables, or brings older ones to appSchemaVersion. BEGIN takes SQLite's write
// lock (_txlock=immediate), so two processes starting together migrate once.
func migrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var version int
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return err
	}
	if version >= appSchemaVersion {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS app_sessions; DROP TABLE IF EXISTS admin_sessions`); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, appSchema); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, appSchemaVersion)); err != nil {
		return err
	}
	return tx.Commit()
}

// newApp creates the app's tables and the SCIM Store in db, and builds the SCIM handler. baseURL is the
// app's public URL behind a proxy ("" derives it from each request).
func newApp(ctx context.Context, db *sql.DB, log *slog.Logger, baseURL string) (*app, error) {
	if err := migrate(ctx, db); err != nil {
		return nil, fmt.Errorf("creating the app's tables: %w", err)
	}
	store, err := sqlstore.New(ctx, db, sqlstore.SQLite)
	if err != nil {
		return nil, err
	}
	a := &app{
		db:      db,
		store:   store,
		roles:   rolesStore{db: db},
		log:     log,
		pages:   template.Must(template.New("").Parse(pageTemplates)),
		baseURL: strings.TrimRight(baseURL, "/"),
		https:   strings.HasPrefix(baseURL, "https://"),

		passwordIter: passwordIterations,
		logins:       newLoginGuard(loginsPerIP, freeFailures, runtime.GOMAXPROCS(0)),
		now:          time.Now,
	}
	opts := []scim.Option{
		scim.WithAuthenticator(a.authenticate),
		scim.WithEvents(a.onEvent),
		scim.WithRequestLog(log),
		scim.WithLogger(log),
		// The account's roles, read-only over SCIM: Okta imports them and grants them through the user's
		// roles, which the handler checks against the catalog.
		scim.WithResource(scim.Resource{Type: roleType, Store: a.roles, ReadOnly: true, Grants: "roles"}),
	}
	if a.baseURL != "" {
		opts = append(opts, scim.WithBaseURL(a.baseURL+"/scim/v2"))
	}
	h, err := scim.New(store, opts...) // the base URL comes from configuration: report, don't panic
	if err != nil {
		return nil, err
	}
	a.scim = h
	return a, nil
}

// handler routes the app's pages and mounts the SCIM handler at /scim/v2.
func (a *app) handler() http.Handler {
	pages := http.NewServeMux()
	pages.HandleFunc("GET /{$}", a.home)
	pages.HandleFunc("GET /login", a.loginPage)
	pages.HandleFunc("POST /login", a.login)
	pages.HandleFunc("POST /logout", a.admin(a.logout))
	pages.HandleFunc("GET /admin", a.admin(a.adminPage))
	pages.HandleFunc("POST /admin/tokens", a.admin(a.generateToken))
	pages.HandleFunc("POST /admin/tokens/{id}/revoke", a.admin(a.revokeToken))
	pages.HandleFunc("GET /admin/users", a.admin(a.usersPage))
	pages.HandleFunc("POST /admin/users/{id}/sign-in", a.admin(a.signInAs))
	pages.HandleFunc("GET /admin/groups", a.admin(a.groupsPage))
	pages.HandleFunc("GET /admin/roles", a.admin(a.rolesPage))
	pages.HandleFunc("POST /admin/roles", a.admin(a.addRole))
	pages.HandleFunc("POST /admin/roles/{id}/delete", a.admin(a.deleteRole))
	pages.HandleFunc("GET /app", a.appPage)

	// Cross-origin POSTs to the pages are refused (Sec-Fetch-Site, else Origin against the Host). The admin
	// forms also carry a CSRF token; the login form cannot (there is no session yet), and without this check
	// an attacker's page could sign the victim's browser into the attacker's account (login CSRF).
	cop := http.NewCrossOriginProtection()
	if a.baseURL != "" { // behind a proxy the Host header may not be the public one
		if u, err := url.Parse(a.baseURL); err == nil {
			_ = cop.AddTrustedOrigin(u.Scheme + "://" + u.Host)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", a.transportHeaders(a.scim)))
	mux.Handle("/", a.transportHeaders(pageHeaders(cop.Handler(pages))))
	return mux
}

// transportHeaders sets the headers every response gets: no MIME sniffing, and HSTS when the app is served
// over https, so that a browser never again sends its session cookie in clear.
func (a *app) transportHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		if a.https || r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// pageHeaders sets the headers of the app's pages. Every page but the login form shows personal data or a
// secret (user lists, the signed-in user, a new token), and even the login form is not worth caching: no
// page is stored by the browser or a proxy (Cache-Control: no-store).
func pageHeaders(next http.Handler) http.Handler {
	// The policy allows the pages nothing but their own inline style (by its hash) and forms posting back to
	// the app: no script at all, no framing, no foreign form targets.
	style := sha256.Sum256([]byte(pageStyle))
	csp := "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(style[:]) + "'; " +
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// authenticate is the SCIM handler's authenticator: the bearer token's hash names an account in scim_tokens,
// and that account is the tenant whose users the request may see.
func (a *app) authenticate(r *http.Request) (string, error) {
	tok, ok := scim.BearerToken(r)
	if !ok {
		return "", scim.ErrUnauthorized
	}
	var account string
	err := a.db.QueryRowContext(r.Context(), `SELECT account_id FROM scim_tokens WHERE token_hash = ?`,
		scim.HashToken(tok)).Scan(&account)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", scim.ErrUnauthorized
	case err != nil:
		// Not the client's fault: answer 503 so that the identity provider retries, rather than a 401 that
		// would tell its admin the token is wrong.
		a.log.ErrorContext(r.Context(), "looking up a SCIM token", "error", err)
		return "", &scim.Error{Status: http.StatusServiceUnavailable, Detail: "try again later"}
	}
	return account, nil
}

// onEvent reacts to committed changes to provisioned users: a deactivated or deleted user loses their
// sessions now, not at their next request. It runs after the SCIM response was sent (scim.WithEvents), so
// its work never delays or fails the identity provider's request. Sessions are keyed by the user's id, so a
// rename needs nothing, and events arriving in any order revoke the right sessions. The events are the fast
// path only: appPage also checks the user is still active at every request, in case an event was lost.
func (a *app) onEvent(ctx context.Context, e scim.Event) {
	if e.Resource != "User" { // a role or group change: no session to revoke
		return
	}
	a.log.InfoContext(ctx, "scim user event", "type", string(e.Type), "account", e.Tenant, "user_id", e.UserID,
		"changed", e.Changed, "request_id", e.RequestID)
	switch e.Type {
	case scim.UserDeactivated, scim.UserDeleted:
		n, err := a.revokeSessions(ctx, e.Tenant, e.UserID)
		if err != nil {
			a.log.ErrorContext(ctx, "revoking sessions", "account", e.Tenant, "user_id", e.UserID, "error", err)
			return
		}
		a.log.InfoContext(ctx, "revoked app sessions", "account", e.Tenant, "user_id", e.UserID, "sessions", n)
	}
}

// revokeSessions deletes every app session of the account's user, and says how many there were.
func (a *app) revokeSessions(ctx context.Context, account, userID string) (int64, error) {
	res, err := a.db.ExecContext(ctx, `DELETE FROM app_sessions WHERE account_id = ? AND user_id = ?`,
		account, userID)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// demoAdmin is the sign-in of a demo account's admin, written at start where only the operator reads it.
type demoAdmin struct{ account, login, password string }

// seedDemo creates the demo accounts and their admins when missing, and gives each admin a new random
// password (only its hash is stored, so it cannot be shown again at the next start).
func (a *app) seedDemo(ctx context.Context) ([]demoAdmin, error) {
	demo := []demoAdmin{{account: "Acme", login: "acme-admin"}, {account: "Globex", login: "globex-admin"}}
	for i := range demo {
		d := &demo[i]
		id := strings.ToLower(d.account)
		d.password = randomString(12)
		hash, err := a.hashPassword(d.password)
		if err != nil {
			return nil, err
		}
		if _, err := a.db.ExecContext(ctx, `INSERT INTO accounts (id, name, created) VALUES (?, ?, ?)
			ON CONFLICT (id) DO NOTHING`, id, d.account, timestamp(time.Now())); err != nil {
			return nil, err
		}
		if _, err := a.db.ExecContext(ctx, `INSERT INTO admins (account_id, login, password_hash) VALUES (?, ?, ?)
			ON CONFLICT (login) DO UPDATE SET password_hash = excluded.password_hash`, id, d.login, hash); err != nil {
			return nil, err
		}
	}
	return demo, nil
}

// randomString returns n random bytes, URL-safe base64 encoded: session ids, CSRF tokens, passwords.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// sha256Hex is how session ids are stored: a leaked table grants no session.
func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// timestamp formats t as the app's tables store times: UTC RFC 3339, whose text order is time order.
func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// itoa is strconv.FormatInt in base 10, for the few numbers the pages and stores write.
func itoa[T int | int64](n T) string { return strconv.FormatInt(int64(n), 10) }
