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
	"strings"
	"time"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/sqlstore"
)

// app is the whole application: its database, the SCIM Store over the same database, the SCIM handler and
// the page templates. Every handler is a method, so there is no package-level state.
type app struct {
	db      *sql.DB
	store   *sqlstore.Store
	scim    http.Handler
	log     *slog.Logger
	pages   *template.Template
	baseURL string // public URL of the app, "" to derive it from each request
	// passwordIter is the PBKDF2 iteration count for new password hashes (passwordIterations; tests lower it).
	passwordIter int
}

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
-- Sessions of the admins on the app's pages; id_hash is the SHA-256 of the cookie's value.
CREATE TABLE IF NOT EXISTS admin_sessions (
	id_hash  TEXT PRIMARY KEY,
	admin_id INTEGER NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
	csrf     TEXT NOT NULL,
	expires  TEXT NOT NULL
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
-- user_key is the folded userName: SCIM compares userNames without case.
CREATE TABLE IF NOT EXISTS app_sessions (
	id_hash    TEXT PRIMARY KEY,
	account_id TEXT NOT NULL REFERENCES accounts(id),
	user_name  TEXT NOT NULL,
	user_key   TEXT NOT NULL,
	created    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS app_sessions_user ON app_sessions (account_id, user_key);
`

// newApp creates the app's tables and the SCIM Store in db, and builds the SCIM handler. baseURL is the
// app's public URL behind a proxy ("" derives it from each request).
func newApp(ctx context.Context, db *sql.DB, log *slog.Logger, baseURL string) (*app, error) {
	if _, err := db.ExecContext(ctx, appSchema); err != nil {
		return nil, fmt.Errorf("creating the app's tables: %w", err)
	}
	store, err := sqlstore.New(ctx, db, filter.SQLite)
	if err != nil {
		return nil, err
	}
	a := &app{
		db:      db,
		store:   store,
		log:     log,
		pages:   template.Must(template.New("").Parse(pageTemplates)),
		baseURL: strings.TrimRight(baseURL, "/"),

		passwordIter: passwordIterations,
	}
	opts := []scim.Option{
		scim.WithAuthenticator(a.authenticate),
		scim.WithEvents(a.onEvent),
		scim.WithRequestLog(log),
		scim.WithLogger(log),
	}
	if a.baseURL != "" {
		opts = append(opts, scim.WithBaseURL(a.baseURL+"/scim/v2"))
	}
	a.scim = scim.NewHandler(store, opts...)
	return a, nil
}

// handler routes the app's pages and mounts the SCIM handler at /scim/v2.
func (a *app) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", a.scim))
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("GET /login", a.loginPage)
	mux.HandleFunc("POST /login", a.login)
	mux.HandleFunc("POST /logout", a.admin(a.logout))
	mux.HandleFunc("GET /admin", a.admin(a.adminPage))
	mux.HandleFunc("POST /admin/tokens", a.admin(a.generateToken))
	mux.HandleFunc("POST /admin/tokens/{id}/revoke", a.admin(a.revokeToken))
	mux.HandleFunc("GET /admin/users", a.admin(a.usersPage))
	mux.HandleFunc("POST /admin/users/{id}/sign-in", a.admin(a.signInAs))
	mux.HandleFunc("GET /app", a.appPage)
	return mux
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
// sessions now, not at their next sign-in; a renamed user keeps theirs. It runs after the SCIM response was
// sent (scim.WithEvents), so its work never delays or fails the identity provider's request.
func (a *app) onEvent(ctx context.Context, e scim.Event) {
	a.log.InfoContext(ctx, "scim user event", "type", string(e.Type), "account", e.Tenant, "user_id", e.UserID,
		"changed", e.Changed, "request_id", e.RequestID)
	switch e.Type {
	case scim.UserDeactivated, scim.UserDeleted:
		n, err := a.revokeSessions(ctx, e.Tenant, e.Before.UserName)
		if err != nil {
			a.log.ErrorContext(ctx, "revoking sessions", "account", e.Tenant, "user_id", e.UserID, "error", err)
			return
		}
		a.log.InfoContext(ctx, "revoked app sessions", "account", e.Tenant, "user_id", e.UserID, "sessions", n)
	case scim.UserUpdated, scim.UserReactivated:
		if userKey(e.Before.UserName) != userKey(e.After.UserName) {
			_, err := a.db.ExecContext(ctx, `UPDATE app_sessions SET user_name = ?, user_key = ?
				WHERE account_id = ? AND user_key = ?`,
				e.After.UserName, userKey(e.After.UserName), e.Tenant, userKey(e.Before.UserName))
			if err != nil {
				a.log.ErrorContext(ctx, "renaming sessions", "account", e.Tenant, "user_id", e.UserID, "error", err)
			}
		}
	}
}

// revokeSessions deletes every app session of the account's user, and says how many there were.
func (a *app) revokeSessions(ctx context.Context, account, userName string) (int64, error) {
	res, err := a.db.ExecContext(ctx, `DELETE FROM app_sessions WHERE account_id = ? AND user_key = ?`,
		account, userKey(userName))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// userKey folds a userName the way the library compares them (filter.Fold).
func userKey(userName string) string { return filter.Fold(userName) }

// demoAdmin is the sign-in of a demo account's admin, printed at start.
type demoAdmin struct{ account, login, password string }

// seedDemo creates the demo accounts and their admins when missing, and gives each admin a new random
// password (only its hash is stored, so it cannot be printed again at the next start).
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
