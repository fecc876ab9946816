// Command server serves SCIM 2.0 at http://localhost:8080/scim/v2: point Microsoft Entra ID, Okta or curl at
// it.
//
//	SCIM_TOKEN=secret go run ./examples/server -addr :8080
//	go run ./examples/server -store postgres -dsn postgres://user@127.0.0.1:5432/db
//
// By default users are kept in the SQLite file scim.db in the working directory, so they survive a restart;
// -store memory keeps them in memory, -store postgres in PostgreSQL. Without SCIM_TOKEN it generates a token
// and prints it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/sqlstore"
)

func main() {
	addr := flag.String("addr", ":8080", "address to listen on")
	base := flag.String("base-url", "", "public URL of /scim/v2 behind a proxy, e.g. https://api.example.com/scim/v2")
	storeKind := flag.String("store", "sqlite", "where users are kept: memory, sqlite or postgres")
	dsn := flag.String("dsn", "", "SQLite file (default scim.db) or PostgreSQL URL (default $DATABASE_URL)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	store, where, err := openStore(ctx, *storeKind, *dsn)
	if err != nil {
		slog.Error("opening the store", "store", *storeKind, "error", err)
		os.Exit(1)
	}

	token := os.Getenv("SCIM_TOKEN")
	if token == "" {
		token, _ = scim.MintToken()
		fmt.Printf("SCIM_TOKEN not set; generated token: %s\n", token)
	}
	opts := []scim.Option{scim.WithTokens(token)}
	if *base != "" {
		opts = append(opts, scim.WithBaseURL(*base))
	}

	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", scim.NewHandler(store, opts...)))
	srv := &http.Server{
		Addr:              *addr,
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
	}

	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	slog.Info("serving SCIM 2.0", "url", "http://localhost"+*addr+"/scim/v2", "store", *storeKind, "at", where)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		slog.Error("server failed", "error", err)
		os.Exit(1)
	}
}

// openStore opens the store the flags name, and says where its data is.
func openStore(ctx context.Context, kind, dsn string) (scim.Store, string, error) {
	switch kind {
	case "memory":
		return scim.NewMemoryStore(), "memory", nil
	case "sqlite":
		if dsn == "" {
			dsn = "scim.db"
		}
		s, err := sqlstore.OpenSQLite(ctx, dsn)
		return s, dsn, err
	case "postgres":
		if dsn == "" {
			dsn = os.Getenv("DATABASE_URL")
		}
		if dsn == "" {
			return nil, "", errors.New("-store postgres needs -dsn or DATABASE_URL")
		}
		s, err := sqlstore.OpenPostgres(ctx, dsn)
		return s, "postgres", err // the DSN may hold a password: never log it
	}
	return nil, "", fmt.Errorf("unknown -store %q: want memory, sqlite or postgres", kind)
}
