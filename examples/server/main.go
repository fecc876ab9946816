// Command server serves SCIM 2.0 at http://localhost:8080/scim/v2: point Microsoft Entra ID, Okta or curl at
// it.
//
//	SCIM_TOKEN=secret go run ./examples/server -addr 127.0.0.1:8080
//	go run ./examples/server -store postgres -dsn postgres://user@127.0.0.1:5432/db
//
// By default users and groups are kept in the SQLite file scim.db in the working directory, so they survive a restart;
// -store memory keeps them in memory, -store postgres in PostgreSQL. Without SCIM_TOKEN it generates a token
// and writes it to the file -token-file (scim-token.txt, readable by its owner only), never to stdout or the
// log. -okta-entitlements serves Okta's Role and Entitlement catalogs (-roles, -entitlements), -agents the
// draft Agent resource, -test-resource scim2/test-suite's TestResource (resources.go). SIGINT or SIGTERM shut it down gracefully: in-flight requests finish, then the store is closed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/examples/internal/host"
	"github.com/scimkit/scim/memstore"
	"github.com/scimkit/scim/schema"
	"github.com/scimkit/scim/sqlstore"
	"github.com/scimkit/scim/sqlstore/postgres"
	"github.com/scimkit/scim/sqlstore/sqlite"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); errors.Is(err, flag.ErrHelp) {
		os.Exit(2) // -h: the usage was printed
	} else if err != nil {
		slog.Error("server failed", "error", err)
		os.Exit(1)
	}
}

// run is the whole program: it serves until ctx ends. stdout gets what the operator needs to connect, never
// a secret.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	addr := fs.String("addr", ":8080", "address to listen on")
	base := fs.String("base-url", "", "public URL of /scim/v2 behind a proxy, e.g. https://api.example.com/scim/v2")
	storeKind := fs.String("store", "sqlite", "where users and groups are kept: memory, sqlite or postgres")
	dsn := fs.String("dsn", "", "SQLite file (default scim.db) or PostgreSQL URL (default $DATABASE_URL)")
	tokenFile := fs.String("token-file", "scim-token.txt", "where a generated token is written (mode 0600) when SCIM_TOKEN is unset")
	var res resourceFlags
	fs.BoolVar(&res.okta, "okta-entitlements", false, "serve Okta's read-only Role and Entitlement catalogs at /Roles and /Entitlements; users' roles and entitlements must name their ids")
	fs.StringVar(&res.roles, "roles", defaultRoles, "the Role catalog of -okta-entitlements: id=display name[:type], comma-separated")
	fs.StringVar(&res.entitlements, "entitlements", defaultEntitlements, "the Entitlement catalog of -okta-entitlements: id=display name[:type], comma-separated")
	fs.BoolVar(&res.agents, "agents", false, "serve the Agent resource of draft-wzdk-scim-agent-resource-00 at /Agents (kept with the users)")
	fs.BoolVar(&res.testResource, "test-resource", false, "serve scim2/test-suite's TestResource at /TestResources (kept with the users)")
	if err := fs.Parse(args); err != nil {
		return err
	}

	token := os.Getenv("SCIM_TOKEN")
	if token == "" {
		token, _ = scim.MintToken()
		path, err := host.WriteSecret(*tokenFile, []byte(token+"\n"))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "SCIM_TOKEN not set: generated a token, written to %s\n", path)
	}
	opts := []scim.Option{scim.WithTokens(token)}
	if *base != "" {
		opts = append(opts, scim.WithBaseURL(*base))
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	store, where, err := openStore(ctx, *storeKind, *dsn)
	if err != nil {
		ln.Close()
		return fmt.Errorf("opening the %s store: %w", *storeKind, err)
	}
	var closers []io.Closer
	if c, ok := store.(io.Closer); ok { // sqlstore: closing SQLite checkpoints its WAL into scim.db
		closers = append(closers, c)
	}
	// Declared resources are kept where users are: sqlstore's documents, or memory.
	newDocs := func(rt *schema.ResourceType) scim.ResourceStore { return memstore.NewDocuments(rt) }
	if s, ok := store.(*sqlstore.Store); ok {
		newDocs = func(rt *schema.ResourceType) scim.ResourceStore { return s.Resources(rt) }
	}
	more, err := res.options(newDocs)
	if err != nil {
		ln.Close()
		for _, c := range closers {
			c.Close()
		}
		return err
	}
	opts = append(opts, more...)

	// New, not MustNew: the token comes from the environment, so a mistake in it is an error to report,
	// not a panic.
	h, err := scim.New(store, opts...)
	if err != nil {
		ln.Close()
		for _, c := range closers {
			c.Close()
		}
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", h))
	url := *base
	if url == "" {
		url = host.URL(ln.Addr()) + "/scim/v2"
	}
	fmt.Fprintf(stdout, "serving SCIM 2.0 at %s (store %s: %s)\n", url, *storeKind, where)
	return host.Serve(ctx, host.NewServer(mux), ln, closers...)
}

// groupStore is what every store of the server is: it keeps users and groups, so the handler serves /Groups.
type groupStore interface {
	scim.Store
	scim.GroupStore
}

// openStore opens the store the flags name, and says where its data is.
func openStore(ctx context.Context, kind, dsn string) (groupStore, string, error) {
	switch kind {
	case "memory":
		return memstore.New(), "memory", nil
	case "sqlite":
		if dsn == "" {
			dsn = "scim.db"
		}
		s, err := sqlite.Open(ctx, dsn)
		return s, dsn, err
	case "postgres":
		if dsn == "" {
			dsn = os.Getenv("DATABASE_URL")
		}
		if dsn == "" {
			return nil, "", errors.New("-store postgres needs -dsn or DATABASE_URL")
		}
		s, err := postgres.Open(ctx, dsn)
		return s, "postgres", err // the DSN may hold a password: never print it
	}
	return nil, "", fmt.Errorf("unknown -store %q: want memory, sqlite or postgres", kind)
}
