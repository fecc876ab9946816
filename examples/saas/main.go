// Command saas is a small multi-tenant SaaS app that embeds the scim library the way a real product would: it
// already has customer accounts, admins who sign in, its own pages and its own tables, and it adds SCIM
// provisioning next to them.
//
//	go run ./examples/saas                    # http://localhost:8090, data in saas.db
//	go run ./examples/saas -addr :9000 -db /tmp/demo.db
//
// What it demonstrates:
//
//   - One SQLite file holds both the app's tables (accounts, admins, admin_sessions, scim_tokens,
//     app_sessions) and the library's (sqlstore.New over the app's own *sql.DB).
//   - Each account's admin generates a SCIM token on the admin page (Integrations → Generate token). The
//     token is minted with scim.MintToken, shown once with the Tenant URL and the Entra ID setup steps, and
//     only its hash is stored.
//   - The handler is mounted at /scim/v2 with an authenticator that hashes the bearer token (scim.HashToken)
//     and looks it up in scim_tokens: the token's account is the SCIM tenant, so each customer's identity
//     provider sees and provisions that account's users only.
//   - The "Provisioned users" page lists the account's users with their status, read through the same
//     Store with the account as tenant (scim.ContextWithTenant).
//   - Events (scim.WithEvents): when the identity provider deactivates or deletes a user, the app revokes
//     that user's sessions at once. A provisioned user gets a session from the demo "Sign in as" button on
//     the users page; /app shows whether it is still valid. Sessions are keyed by the user's SCIM id, and
//     /app checks at every request that the user is still active, so a lost or reordered event revokes
//     nothing less.
//   - One structured log line per SCIM request (scim.WithRequestLog).
//   - A model host's habits around the pages: sign-in throttled per address, with an exponential back-off
//     per (login, address) rather than a lockout anyone could trigger, and a bounded pool of password
//     checks (429 with Retry-After), cross-origin POSTs refused (login CSRF), sessions with an idle and an
//     absolute expiry, Secure cookies and HSTS behind an https -base-url, a
//     Content-Security-Policy, nosniff and Cache-Control: no-store.
//
// The demo accounts Acme (admin acme-admin) and Globex (admin globex-admin) are created on first start; their
// admins get a new random password at every start, written to the file -credentials (saas-admins.txt,
// readable by its owner only) rather than to stdout, whose path is printed.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go)

	"github.com/scimkit/scim/examples/internal/host"
)

func main() {
	addr := flag.String("addr", ":8090", "address to listen on")
	dbPath := flag.String("db", "saas.db", "SQLite file holding the app's tables and its SCIM users")
	baseURL := flag.String("base-url", "", "public URL of the app behind a proxy, e.g. https://app.example.com")
	credentials := flag.String("credentials", "saas-admins.txt", "where the demo admins' new passwords are written (mode 0600)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, config{*addr, *dbPath, *baseURL, *credentials}, log, os.Stdout); err != nil {
		log.Error("saas example failed", "error", err)
		os.Exit(1)
	}
}

// config is the program's flags.
type config struct {
	addr, dbPath, baseURL, credentials string
}

// run serves the app until ctx ends, then shuts down gracefully and closes the database. stdout gets the
// URLs and where the demo passwords are, never a password.
func run(ctx context.Context, c config, log *slog.Logger, stdout io.Writer) error {
	db, err := openDB(c.dbPath)
	if err != nil {
		return err
	}
	defer db.Close() // on the early returns; host.Serve closes it after the last request otherwise
	a, err := newApp(ctx, db, log, c.baseURL)
	if err != nil {
		return err
	}
	admins, err := a.seedDemo(ctx)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, d := range admins {
		fmt.Fprintf(&b, "account %-7s login %-13s password %s\n", d.account, d.login, d.password)
	}
	credentials, err := host.WriteSecret(c.credentials, []byte(b.String()))
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	url := strings.TrimRight(c.baseURL, "/")
	if url == "" {
		url = host.URL(ln.Addr())
	}
	fmt.Fprintf(stdout, "SaaS example app: %s (data in %s)\n", url, c.dbPath)
	fmt.Fprintf(stdout, "  demo admins acme-admin and globex-admin: new passwords in %s\n", credentials)
	fmt.Fprintf(stdout, "  SCIM Tenant URL: %s/scim/v2 (generate a token on the admin page)\n", url)
	return host.Serve(ctx, host.NewServer(a.handler()), ln, a, db) // a before db: its event hook uses db
}

// openDB opens (creating if needed) the SQLite file at path with the settings sqlite.Open uses: WAL,
// so that readers never wait for the writer, a busy timeout, and transactions that take the write lock at
// BEGIN.
func openDB(path string) (*sql.DB, error) {
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)" +
		"&_pragma=foreign_keys(1)&_txlock=immediate"
	return sql.Open("sqlite", dsn)
}

// Close delivers the SCIM events still queued (scim.Handler.Shutdown): the hook runs on the handler's
// workers, after the requests that queued them, so it needs the database after the last request has ended.
func (a *app) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), host.ShutdownTimeout)
	defer cancel()
	return a.scim.Shutdown(ctx)
}
