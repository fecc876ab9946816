package scim

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// retryCAS runs write until it does not lose a race. write is one compare-and-swap: it reads the resource,
// computes the change and writes it with the version it read, so that no concurrent change is lost; a Store
// answers ErrVersionMismatch when another write came in between, and write is then run again on a fresh read,
// up to h.maxRetries (16) more times, after which the mismatch stands (412). A request with If-Match is never
// retried: the version is the client's, and a mismatch is its 412 to read again.
//
// Every PATCH, PUT and DELETE that reads before it writes goes through here, so all have the same back-off:
// retryDelay.
func (h *handler) retryCAS(r *request, write func() error) error {
	conditional := r.Header.Get("If-Match") != ""
	for retry := 1; ; retry++ {
		err := write()
		if conditional || retry > h.maxRetries || !errors.Is(err, ErrVersionMismatch) {
			return err
		}
		if err := sleepCtx(r.Context(), retryDelay(retry)); err != nil {
			return err
		}
	}
}

// retryDelay is the wait before the n-th retry (from 1) of a lost race: uniformly random below n ms. It grows
// linearly, as the number of writers a loser may still be racing does, and stays short (under 136 ms across
// 16 retries) because a race is lost to a write that has already committed, not to an overload; the jitter
// keeps writers that lost together from colliding again in step.
func retryDelay(n int) time.Duration {
	return rand.N(time.Duration(n) * time.Millisecond)
}

// sleepCtx waits d, or less when ctx ends first (then it returns ctx's error).
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
