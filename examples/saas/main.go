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
//     Store with the account as tenant (scim.WithTenant).
//   - Events (scim.WithEvents): when the identity provider deactivates or deletes a user, the app revokes
//     that user's sessions at once. A provisioned user gets a session from the demo "Sign in as" button on
//     the users page; /app shows whether it is still valid.
//   - One structured log line per SCIM request (scim.WithRequestLog).
//
// The demo accounts Acme (admin acme-admin) and Globex (admin globex-admin) are created on first start; their
// admins get a new random password at every start, printed on stdout.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go)
)

func main() {
	addr := flag.String("addr", ":8090", "address to listen on")
	dbPath := flag.String("db", "saas.db", "SQLite file holding the app's tables and its SCIM users")
	baseURL := flag.String("base-url", "", "public URL of the app behind a proxy, e.g. https://app.example.com")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(*addr, *dbPath, *baseURL, log); err != nil {
		log.Error("saas example failed", "error", err)
		os.Exit(1)
	}
}

func run(addr, dbPath, baseURL string, log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	db, err := openDB(dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	a, err := newApp(ctx, db, log, baseURL)
	if err != nil {
		return err
	}
	admins, err := a.seedDemo(ctx)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	url := baseURL
	if url == "" {
		url = "http://" + localAddr(ln.Addr())
	}
	fmt.Printf("SaaS example app: %s (data in %s)\n", url, dbPath)
	for _, c := range admins {
		fmt.Printf("  account %-7s sign in as %s / %s\n", c.account, c.login, c.password)
	}
	fmt.Printf("  SCIM Tenant URL: %s/scim/v2 (generate a token on the admin page)\n", url)

	srv := &http.Server{
		Handler:           a.handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second, // the SCIM handler bounds its own work to 30 s
		IdleTimeout:       120 * time.Second,
	}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// openDB opens (creating if needed) the SQLite file at path with the settings sqlstore.OpenSQLite uses: WAL,
// so that readers never wait for the writer, a busy timeout, and transactions that take the write lock at
// BEGIN.
func openDB(path string) (*sql.DB, error) {
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)" +
		"&_pragma=foreign_keys(1)&_txlock=immediate"
	return sql.Open("sqlite", dsn)
}

// localAddr is the host:port to print for a listener: "localhost" for a wildcard address.
func localAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
