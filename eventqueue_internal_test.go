package scim

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestEventQueueEndsWithItsHandler: a Handler dropped without Shutdown does not keep its workers: once it is
// unreachable, a cleanup closes its queue and the idle workers end.
func TestEventQueueEndsWithItsHandler(t *testing.T) {
	delivered := make(chan struct{}, 1)
	h := MustNew(NewMemoryStore(), WithTokens("t"), WithEvents(func(context.Context, Event) { delivered <- struct{}{} }))
	req := httptest.NewRequest("POST", "/Users", strings.NewReader(`{"userName":"gc@example.com"}`))
	req.Header.Set("Authorization", "Bearer t")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	require.Equal(t, http.StatusCreated, w.Code)
	<-delivered
	q := h.h.queue
	h = nil // the last reference to the Handler: the queue must end without Shutdown

	ended := make(chan struct{})
	go func() { q.workers.Wait(); close(ended) }()
	require.Eventually(t, func() bool {
		runtime.GC()
		select {
		case <-ended:
			return true
		default:
			return false
		}
	}, 5*time.Second, 10*time.Millisecond, "the workers outlived their Handler")
}
