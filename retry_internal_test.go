package scim

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRetryCAS: a lost race (ErrVersionMismatch) is run again up to 16 times, then the mismatch stands (412);
// a request with If-Match and any other error are never retried; the waits stay within retryDelay's bound
// (the clock is synctest's, so nothing here sleeps for real).
func TestRetryCAS(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name      string
		ifMatch   string
		errs      func(call int) error
		wantCalls int
		wantErr   error
	}{
		{"won at once", "", func(int) error { return nil }, 1, nil},
		{"won after five lost races", "", func(c int) error { return mismatchBelow(c, 6) }, 6, nil},
		{"won on the last retry", "", func(c int) error { return mismatchBelow(c, 17) }, 17, nil},
		{"lost every race: 412 after 16 retries", "", func(int) error { return ErrVersionMismatch }, 17, ErrVersionMismatch},
		{"If-Match: the client's own 412", `W/"1"`, func(int) error { return ErrVersionMismatch }, 1, ErrVersionMismatch},
		{"another error", "", func(int) error { return boom }, 1, boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := &handler{config: config{maxRetries: 16}}
				req := httptest.NewRequest("PATCH", "/Users/1", nil)
				if tt.ifMatch != "" {
					req.Header.Set("If-Match", tt.ifMatch)
				}
				calls, start := 0, time.Now()
				err := h.retryCAS(&request{Request: req}, func() error {
					calls++
					return tt.errs(calls)
				})
				require.ErrorIs(t, err, tt.wantErr)
				require.Equal(t, tt.wantCalls, calls)
				require.Less(t, time.Since(start), 136*time.Millisecond, "the sum of retryDelay(1..16) is below 136 ms")
			})
		})
	}
	t.Run("the request ends while waiting", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			h := &handler{config: config{maxRetries: 16}}
			ctx, cancel := context.WithCancel(t.Context())
			req := httptest.NewRequestWithContext(ctx, "PATCH", "/Users/1", nil)
			calls := 0
			err := h.retryCAS(&request{Request: req}, func() error {
				if calls++; calls == 3 {
					cancel()
				}
				return ErrVersionMismatch
			})
			require.ErrorIs(t, err, context.Canceled)
			require.Equal(t, 3, calls)
		})
	})
}

func mismatchBelow(call, n int) error {
	if call < n {
		return ErrVersionMismatch
	}
	return nil
}
