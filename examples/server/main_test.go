package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/sqlstore/sqlite"
)

// syncBuffer is stdout for a program running on another goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServer runs the program as the README does (SQLite, no SCIM_TOKEN): it prints a URL that works and the
// path of the generated token, never the token; on SIGTERM it finishes and closes the store, which
// checkpoints SQLite's write-ahead log into scim.db.
func TestServer(t *testing.T) {
	t.Setenv("SCIM_TOKEN", "")
	dir := t.TempDir()
	db, tokenFile := filepath.Join(dir, "scim.db"), filepath.Join(dir, "scim-token.txt")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stdout syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-dsn", db, "-token-file", tokenFile}, &stdout)
	}()

	var url string
	require.Eventually(t, func() bool {
		m := regexp.MustCompile(`at (http://\S+/scim/v2) `).FindStringSubmatch(stdout.String())
		if m != nil {
			url = m[1]
		}
		return m != nil
	}, 10*time.Second, 10*time.Millisecond, "no URL printed: %s", &stdout)
	require.Regexp(t, `^http://127\.0\.0\.1:\d+/scim/v2$`, url)

	info, err := os.Stat(tokenFile)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	raw, err := os.ReadFile(tokenFile)
	require.NoError(t, err)
	token := strings.TrimSpace(string(raw))
	require.NotEmpty(t, token)
	require.NotContains(t, stdout.String(), token, "the token is never printed")
	require.Contains(t, stdout.String(), tokenFile)

	post := func(path, body string) map[string]any {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", raw)
		var out map[string]any
		require.NoError(t, json.Unmarshal(raw, &out))
		return out
	}
	jane := post("/Users", `{"userName":"jane@contoso.com"}`)["id"].(string)
	// The store is a GroupStore: the server keeps groups too (Entra ID and Okta provision them).
	g := post("/Groups", `{"displayName":"Engineering","members":[{"value":"`+jane+`"}]}`)
	require.Equal(t, "Engineering", g["displayName"])

	cancel() // SIGTERM
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("the server did not shut down")
	}
	_, err = os.Stat(db + "-wal")
	require.ErrorIs(t, err, os.ErrNotExist, "closing the store checkpoints and removes the WAL")
	store, err := sqlite.Open(t.Context(), db)
	require.NoError(t, err)
	defer store.Close()
	page, err := store.List(scim.ContextWithTenant(t.Context(), ""), scim.Query{StartIndex: 1, Count: 10})
	require.NoError(t, err)
	require.Len(t, page.Users, 1)
	groups, err := store.ListGroups(scim.ContextWithTenant(t.Context(), ""), scim.Query{StartIndex: 1, Count: 10}, scim.GroupRead{MaxMembers: 10})
	require.NoError(t, err)
	require.Len(t, groups.Groups, 1)
	require.Equal(t, []scim.Member{{Value: jane, Display: "jane@contoso.com", Type: "User"}}, groups.Groups[0].Members)
}
