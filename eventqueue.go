package scim

import (
	"context"
	"log/slog"
	"time"

	"github.com/scimkit/scim/internal/eventq"
)

// EventQueue configures how the events of WithEvents are delivered (Limits.Events): a bounded queue drained
// by a fixed set of workers, each user's events always on the same worker. Zero fields take their defaults;
// a negative one, NoLimit included, is a configuration error: an unbounded queue or pool cannot exist.
type EventQueue struct {
	// Size bounds the events waiting for delivery, in all (default 4096). It is shared evenly among the
	// workers, so a burst for the users of one worker cannot take the room of the others.
	Size int
	// Workers is how many hooks may run at once (default 8, at most 256). A user's events always go to the same worker,
	// in order; different users' events proceed in parallel.
	Workers int
	// Wait is how long a write whose event finds its worker's share of the queue full waits for room
	// (default 1 s). Past it the event is dropped: logged at Error and counted in EventStats.Dropped; the
	// write itself is committed, and its request answers as usual.
	Wait time.Duration
	// Timeout ends each hook's context (default 30 s).
	Timeout time.Duration
}

// EventStats counts what became of a Handler's events since New (Handler.EventStats).
type EventStats struct {
	// Queued is the number of events waiting for delivery now.
	Queued int
	// Delivered counts the hook calls that ended, Panicked among them.
	Delivered, Panicked uint64
	// Dropped counts the events never delivered: the queue stayed full for EventQueue.Wait, the write came
	// after Shutdown began, or Shutdown's context ended before they were delivered.
	Dropped uint64
}

// EventStats reports what became of the handler's events; all zero without WithEvents. A host exports
// Dropped as a metric: it is the number of changes its hook never saw.
func (h *Handler) EventStats() EventStats {
	if h.h.queue == nil {
		return EventStats{}
	}
	s := h.h.queue.Stats()
	return EventStats{Queued: s.Queued, Delivered: s.Delivered, Panicked: s.Panicked, Dropped: s.Dropped}
}

// lockedWrite runs write, a Store write to the user id of the request's tenant that emits its event, under
// the user's lock: held from the write through the enqueue, so that the user's events are queued in commit
// order, and released before the response is written, so that a slow client holds up no other writer.
// Without WithEvents it just runs write.
func (h *handler) lockedWrite(r *request, id string, write func() error) error {
	if h.queue == nil {
		return write()
	}
	unlock, err := h.queue.Lock(r.Context(), r.tenant, id)
	if err != nil {
		return err
	}
	defer unlock() // deferred: a panicking Store must not keep the stripe
	return write()
}

// newEventQueue makes the queue of WithEvents' hook (internal/eventq).
func newEventQueue(hook func(context.Context, Event), cfg EventQueue, log *slog.Logger) *eventq.Queue[Event] {
	describe := func(e Event) []any {
		return []any{"event", string(e.Type), "tenant", e.Tenant, "request_id", e.RequestID}
	}
	return eventq.New(hook, describe, eventq.Config{Size: cfg.Size, Workers: cfg.Workers, Wait: cfg.Wait, Timeout: cfg.Timeout}, log)
}

// enqueue queues e on its resource's lane (Event.key).
func (h *handler) enqueue(ctx context.Context, e Event) { h.queue.Enqueue(ctx, e.Tenant, e.key(), e) }
