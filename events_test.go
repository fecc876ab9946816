package scim_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
)

// eventLog collects delivered events; delivery is asynchronous, so tests wait for them.
type eventLog struct {
	mu     sync.Mutex
	events []scim.Event
	ch     chan struct{}
}

func newEventLog() *eventLog { return &eventLog{ch: make(chan struct{}, 100)} }

func (l *eventLog) hook(_ context.Context, e scim.Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
	l.ch <- struct{}{}
}

// next waits for the next event.
func (l *eventLog) next(t *testing.T) scim.Event {
	t.Helper()
	select {
	case <-l.ch:
	case <-time.After(5 * time.Second):
		t.Fatal("no event delivered")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.events[len(l.events)-1]
}

func (l *eventLog) none(t *testing.T) {
	t.Helper()
	select {
	case <-l.ch:
		l.mu.Lock()
		defer l.mu.Unlock()
		t.Fatalf("unexpected event %+v", l.events[len(l.events)-1])
	case <-time.After(50 * time.Millisecond):
	}
}

func TestEventsLifecycle(t *testing.T) {
	log := newEventLog()
	s := newTestServer(t, scim.WithEvents(log.hook), scim.WithPasswords(scim.PasswordsHashed))

	r := s.do("POST", "/Users", `{"userName":"ev@example.com","active":true,"password":"hunter2"}`)
	require.Equal(t, 201, r.Status)
	id := r.Body["id"].(string)
	e := log.next(t)
	require.Equal(t, scim.UserCreated, e.Type)
	require.Equal(t, id, e.UserID)
	require.Nil(t, e.Before)
	require.Equal(t, "ev@example.com", e.After.UserName)
	require.Empty(t, e.After.PasswordHash, "events never carry a password")
	require.Equal(t, r.Header.Get("X-Request-Id"), e.RequestID)
	require.WithinDuration(t, time.Now(), e.Time, time.Minute)
	require.Equal(t, r.Header.Get("ETag"), `W/"`+e.Version+`"`, "the event's version is the user's")

	require.Equal(t, 200, s.do("PATCH", "/Users/"+id, patchOp(`{"op":"replace","path":"displayName","value":"Ev"}`,
		`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Ops"}`)).Status)
	e = log.next(t)
	require.Equal(t, scim.UserUpdated, e.Type)
	require.Equal(t, []string{"displayName", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"}, e.Changed)
	require.Empty(t, e.Before.DisplayName)
	require.Equal(t, "Ev", e.After.DisplayName)

	// A PATCH that changes nothing, and a failed one, commit nothing: no event.
	require.Equal(t, 200, s.do("PATCH", "/Users/"+id, patchOp(`{"op":"replace","path":"displayName","value":"Ev"}`)).Status)
	require.Equal(t, 400, s.do("PATCH", "/Users/"+id, patchOp(`{"op":"replace","path":"id","value":"x"}`)).Status)
	log.none(t)

	require.Equal(t, 200, s.do("PATCH", "/Users/"+id, patchOp(`{"op":"Replace","path":"active","value":"False"}`,
		`{"op":"Replace","path":"title","value":"Gone"}`)).Status)
	e = log.next(t)
	require.Equal(t, scim.UserDeactivated, e.Type)
	require.ElementsMatch(t, []string{"active", "title"}, e.Changed)

	require.Equal(t, 200, s.do("PUT", "/Users/"+id, `{"userName":"ev@example.com","active":true}`).Status)
	e = log.next(t)
	require.Equal(t, scim.UserReactivated, e.Type)
	require.NotContains(t, e.Changed, "password", "PUT keeps the password it was not sent")

	r = s.do("PATCH", "/Users/"+id, patchOp(`{"op":"replace","path":"password","value":"new"}`))
	require.Equal(t, 200, r.Status)
	e = log.next(t)
	require.Equal(t, []string{"password"}, e.Changed)
	require.Empty(t, e.After.PasswordHash)
	require.Equal(t, r.Header.Get("ETag"), `W/"`+e.Version+`"`)
	last := e.Version

	require.Equal(t, 204, s.do("DELETE", "/Users/"+id, "").Status)
	e = log.next(t)
	require.Equal(t, scim.UserDeleted, e.Type)
	require.Equal(t, id, e.UserID)
	require.Nil(t, e.After)
	require.Equal(t, "ev@example.com", e.Before.UserName)
	require.Equal(t, last, e.Version, "a deletion reports the version it deleted")
	require.Equal(t, 404, s.do("DELETE", "/Users/"+id, "").Status)
	log.none(t)
}

// TestEventsTenant: an event names the tenant whose user changed.
func TestEventsTenant(t *testing.T) {
	log := newEventLog()
	s := newTestServer(t, scim.WithEvents(log.hook), scim.WithAuthenticator(func(r *http.Request) (string, error) {
		tok, _ := scim.BearerToken(r)
		return "tenant-" + tok, nil
	}))
	s.createUser("t@example.com")
	require.Equal(t, "tenant-"+testToken, log.next(t).Tenant)
}

// TestEventHookCannotHurtRequests: a panicking or slow hook neither fails nor delays the client's answer.
func TestEventHookCannotHurtRequests(t *testing.T) {
	var logs syncBuffer
	release := make(chan struct{})
	started := make(chan struct{}, 10)
	hook := func(_ context.Context, e scim.Event) {
		started <- struct{}{}
		if e.After != nil && e.After.UserName == "panic@example.com" {
			panic("host hook bug")
		}
		<-release
	}
	s := newTestServer(t, scim.WithEvents(hook), scim.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))

	require.Equal(t, 201, s.do("POST", "/Users", `{"userName":"panic@example.com"}`).Status)
	<-started
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "host hook bug") }, 5*time.Second, 10*time.Millisecond)

	done := make(chan int, 1)
	go func() {
		done <- s.do("POST", "/Users", `{"userName":"slow@example.com"}`).Status
	}()
	<-started // the hook is running, and blocked
	select {
	case status := <-done:
		require.Equal(t, 201, status, "the answer arrived while the hook was still running")
	case <-time.After(5 * time.Second):
		t.Fatal("a slow hook delayed the response")
	}
	close(release)
	require.Equal(t, 200, s.do("GET", "/Users", "").Status, "the server goes on serving")
}

// syncBuffer is a strings.Builder safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestRequestLogAndMetrics: one structured line and one metrics call per request, without personal data.
func TestRequestLogAndMetrics(t *testing.T) {
	var logs syncBuffer
	var mu sync.Mutex
	var infos []scim.RequestInfo
	s := newTestServer(t,
		scim.WithRequestLog(slog.New(slog.NewJSONHandler(&logs, nil))),
		scim.WithMetrics(func(i scim.RequestInfo) { mu.Lock(); infos = append(infos, i); mu.Unlock() }))
	id := s.createUser("secret.person@example.com")
	s.do("GET", "/Users/"+id, "")
	s.do("POST", "/Users", `{"userName":"secret.person@example.com"}`)
	s.do("GET", "/Users?filter=userName+eq+%22secret.person@example.com%22", "", "X-Request-Id", "req-42")
	s.do("GET", "/Users", "", "Authorization", "Bearer wrong-token-value")
	s.do("GET", "/Nope", "")

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	require.Len(t, lines, 6)
	type line struct {
		Msg, Method, Route, ScimType, Tenant, RequestID string
		Status                                          int
		Duration                                        int64
	}
	var got []line
	for _, l := range lines {
		var v struct {
			Msg       string `json:"msg"`
			Method    string `json:"method"`
			Route     string `json:"route"`
			Status    int    `json:"status"`
			ScimType  string `json:"scimType"`
			Duration  int64  `json:"duration"`
			Tenant    string `json:"tenant"`
			RequestID string `json:"request_id"`
		}
		require.NoError(t, json.Unmarshal([]byte(l), &v))
		require.NotEmpty(t, v.RequestID)
		require.Positive(t, v.Duration)
		got = append(got, line{v.Msg, v.Method, v.Route, v.ScimType, v.Tenant, "", v.Status, 0})
	}
	require.Equal(t, []line{
		{"scim request", "POST", "/Users", "", "", "", 201, 0},
		{"scim request", "GET", "/Users/{id}", "", "", "", 200, 0},
		{"scim request", "POST", "/Users", "uniqueness", "", "", 409, 0},
		{"scim request", "GET", "/Users", "", "", "", 200, 0},
		{"scim request", "GET", "/Users", "", "", "", 401, 0},
		{"scim request", "GET", "unknown", "", "", "", 404, 0},
	}, got)
	require.Contains(t, lines[3], `"request_id":"req-42"`)
	for _, secret := range []string{"secret.person", "Bearer", "wrong-token-value", id} {
		require.NotContains(t, logs.String(), secret)
	}

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, infos, 6)
	require.Equal(t, scim.RequestInfo{Resource: "Users", Route: "/Users", Method: "POST", Status: 409, ScimType: "uniqueness",
		Duration: infos[2].Duration, RequestID: infos[2].RequestID}, infos[2])
	require.Equal(t, "Users", infos[1].Resource)
}
