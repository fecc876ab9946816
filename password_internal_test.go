package scim

import (
	"context"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// waitQueued waits until tenant has n requests waiting for a hash slot.
func waitQueued(s *hashSlots, tenant string, n int) {
	for {
		s.mu.Lock()
		got := 0
		if t := s.tenants[tenant]; t != nil {
			got = len(t.queue)
		}
		s.mu.Unlock()
		if got == n {
			return
		}
		runtime.Gosched()
	}
}

// TestHashSlotsFair: with every slot taken by tenant A and a queue of A's requests behind them, tenant B's
// request is the next admitted, whatever the length of A's queue; tenants then take turns, each one's
// requests in order. Deterministic: the order of admission is asserted, never a time.
func TestHashSlotsFair(t *testing.T) {
	for _, slots := range []int{1, 2} {
		s := newHashSlots(slots)
		ctx := context.Background()
		for range slots {
			require.NoError(t, s.acquire(ctx, "a"))
		}
		admitted := make(chan string, 64)
		enqueue := func(tenant, name string) {
			go func() {
				if s.acquire(ctx, tenant) == nil {
					admitted <- name
				}
			}()
		}
		for i, name := range []string{"a1", "a2", "a3", "a4", "a5"} {
			enqueue("a", name)
			waitQueued(s, "a", i+1)
		}
		enqueue("b", "b1")
		waitQueued(s, "b", 1)
		enqueue("b", "b2")
		waitQueued(s, "b", 2)
		enqueue("c", "c1")
		waitQueued(s, "c", 1)

		// One slot freed at a time; each admitted request gives its slot back before the next is freed.
		var order []string
		s.release("a")
		for range 8 {
			name := <-admitted
			order = append(order, name)
			s.release(name[:1])
		}
		// The first freed slot goes to B (never served), then C; then the tenants take turns, the one served
		// longest ago first, A's requests in their order.
		want := []string{"b1", "c1", "a1", "b2", "a2", "a3", "a4", "a5"}
		if slots == 2 { // A still holds its second slot: the tenants holding none go first, then A's queue
			want = []string{"b1", "c1", "b2", "a1", "a2", "a3", "a4", "a5"}
		}
		require.Equal(t, want, order, "%d slots", slots)
		for range slots - 1 {
			s.release("a")
		}
		require.Equal(t, slots, s.free, "every slot back")
		require.Empty(t, s.tenants, "no state kept for idle tenants")
		require.Empty(t, s.waiting)
	}
}

// TestHashSlotsCancel: a request whose context ends stops waiting and leaves no trace; the slot goes to the
// next in turn.
func TestHashSlotsCancel(t *testing.T) {
	s := newHashSlots(1)
	require.NoError(t, s.acquire(context.Background(), "a"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.acquire(ctx, "b") }()
	waitQueued(s, "b", 1)
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	require.NotContains(t, s.tenants, "b")
	require.Empty(t, s.waiting)
	s.release("a")
	require.Equal(t, 1, s.free)
	require.Empty(t, s.tenants)
}
