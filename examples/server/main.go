// Command server serves SCIM 2.0 at http://localhost:8080/scim/v2 over an in-memory store: point Microsoft
// Entra ID, Okta or curl at it.
//
//	SCIM_TOKEN=secret go run ./examples/server -addr :8080
//
// Without SCIM_TOKEN it generates a token and prints it.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
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
)

func main() {
	addr := flag.String("addr", ":8080", "address to listen on")
	base := flag.String("base-url", "", "public URL of /scim/v2 behind a proxy, e.g. https://api.example.com/scim/v2")
	flag.Parse()

	token := os.Getenv("SCIM_TOKEN")
	if token == "" {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		token = base64.RawURLEncoding.EncodeToString(b)
		fmt.Printf("SCIM_TOKEN not set; generated token: %s\n", token)
	}
	opts := []scim.Option{scim.WithTokens(token)}
	if *base != "" {
		opts = append(opts, scim.WithBaseURL(*base))
	}

	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", scim.NewHandler(scim.NewMemoryStore(), opts...)))
	srv := &http.Server{
		Addr:              *addr,
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	slog.Info("serving SCIM 2.0", "url", "http://localhost"+*addr+"/scim/v2", "store", "memory")
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		slog.Error("server failed", "error", err)
		os.Exit(1)
	}
}
