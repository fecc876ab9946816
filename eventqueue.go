package scim

import (
	"context"
	"fmt"
	"hash/maphash"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
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
	q := h.h.queue
	if q == nil {
		return EventStats{}
	}
	return EventStats{Queued: int(q.queued.Load()), Delivered: q.delivered.Load(), Panicked: q.panicked.Load(),
		Dropped: q.dropped.Load()}
}

// eventQueue delivers events to the hook. Two mechanisms together keep each user's events in commit order:
// a striped lock per user (lockedWrite), held from the Store write through the enqueue, makes enqueue order
// the commit order within the process; and each user's events go to one worker's FIFO lane.
type eventQueue struct {
	hook func(context.Context, Event)
	cfg  EventQueue
	log  *slog.Logger
	seed maphash.Seed
	// stripes are the per-user locks, by hash: a channel of capacity 1 so that a wait can end with the
	// request's context. Users sharing a stripe only serialise their writes, briefly.
	stripes []chan struct{}

	mu      sync.RWMutex // enqueues hold it shared; closing holds it exclusively, so no send meets a closed lane
	closed  bool
	started bool
	lanes   []chan *queuedEvent // one per worker, made with the workers on the first event
	workers sync.WaitGroup

	// abandon ends the running hooks' contexts and makes the workers drop what is left, when Shutdown runs
	// out of time.
	abandon context.Context
	cancel  context.CancelFunc

	queued                       atomic.Int64
	delivered, panicked, dropped atomic.Uint64
}

// queuedEvent is an event with the context its hook gets (the request's values, without its cancellation).
type queuedEvent struct {
	ctx context.Context
	Event
}

const eventStripes = 256

func newEventQueue(hook func(context.Context, Event), cfg EventQueue, log *slog.Logger) *eventQueue {
	if cfg.Size <= 0 {
		cfg.Size = 4096
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	cfg.Workers = min(cfg.Workers, eventStripes) // a lane is a stripe modulo the workers: more would idle
	if cfg.Wait <= 0 {
		cfg.Wait = time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	q := &eventQueue{hook: hook, cfg: cfg, log: log, seed: maphash.MakeSeed(), stripes: make([]chan struct{}, eventStripes)}
	for i := range q.stripes {
		q.stripes[i] = make(chan struct{}, 1)
	}
	q.abandon, q.cancel = context.WithCancel(context.Background())
	return q
}

// slot hashes a user (tenant and id) to its stripe; the stripe modulo the workers is its lane, so a user's
// events always meet the same worker.
func (q *eventQueue) slot(tenant, id string) int {
	var h maphash.Hash
	h.SetSeed(q.seed)
	h.WriteString(tenant)
	h.WriteByte(0)
	h.WriteString(id)
	return int(h.Sum64() % eventStripes)
}

// lock takes the user's stripe, or gives up when ctx ends.
func (q *eventQueue) lock(ctx context.Context, tenant, id string) (unlock func(), err error) {
	s := q.stripes[q.slot(tenant, id)]
	select {
	case s <- struct{}{}:
		return func() { <-s }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// enqueue queues e on its user's lane, waiting up to cfg.Wait for room; it drops (and counts) the event when
// there is none, or when the queue is closed.
func (q *eventQueue) enqueue(ctx context.Context, e Event) {
	q.mu.RLock()
	if !q.started {
		q.mu.RUnlock()
		q.start()
		q.mu.RLock()
	}
	defer q.mu.RUnlock()
	if q.closed { // checked after start: Shutdown may have come in between
		q.drop(e, "the handler is shut down")
		return
	}
	qe := &queuedEvent{ctx: ctx, Event: e}
	lane := q.lanes[q.slot(e.Tenant, e.key())%len(q.lanes)]
	q.queued.Add(1) // before the send: the worker's decrement never comes first
	select {
	case lane <- qe:
		return
	default:
	}
	t := time.NewTimer(q.cfg.Wait)
	defer t.Stop()
	select {
	case lane <- qe:
	case <-t.C:
		q.queued.Add(-1)
		q.drop(e, "the event queue is full")
	}
}

// start makes the lanes and their workers, once, on the first event: a handler that never changes a user
// runs no goroutine.
func (q *eventQueue) start() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.started || q.closed {
		return
	}
	per := (q.cfg.Size + q.cfg.Workers - 1) / q.cfg.Workers
	q.lanes = make([]chan *queuedEvent, q.cfg.Workers)
	for i := range q.lanes {
		q.lanes[i] = make(chan *queuedEvent, per)
		q.workers.Add(1)
		go q.work(q.lanes[i])
	}
	q.started = true
}

// work delivers one lane's events in order until the lane is closed and empty.
func (q *eventQueue) work(lane <-chan *queuedEvent) {
	defer q.workers.Done()
	for e := range lane {
		q.queued.Add(-1)
		if q.abandon.Err() != nil { // Shutdown ran out of time: what is left is dropped, not delivered late
			q.dropped.Add(1)
			continue
		}
		q.deliver(e)
	}
}

// deliver runs the hook for one event, with its own timeout, ended early if Shutdown runs out of time; a
// panic is recovered and logged.
func (q *eventQueue) deliver(e *queuedEvent) {
	ctx, cancel := context.WithTimeout(e.ctx, q.cfg.Timeout)
	defer cancel()
	stop := context.AfterFunc(q.abandon, cancel)
	defer stop()
	defer func() {
		q.delivered.Add(1)
		if v := recover(); v != nil {
			q.panicked.Add(1)
			q.log.ErrorContext(ctx, "scim: event hook panicked", "event", string(e.Type), "request_id", e.RequestID,
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		}
	}()
	q.hook(ctx, e.Event)
}

// drop counts and logs an event that will never be delivered: its type and request, never its user's data.
func (q *eventQueue) drop(e Event, why string) {
	q.dropped.Add(1)
	q.log.Error("scim: event dropped: "+why, "event", string(e.Type), "tenant", e.Tenant, "request_id", e.RequestID)
}

// close stops accepting events and lets the workers end once their lanes are empty.
func (q *eventQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	q.closed = true
	for _, l := range q.lanes {
		close(l)
	}
}

// shutdown closes the queue and waits for the workers to deliver what is queued, or for ctx to end.
func (q *eventQueue) shutdown(ctx context.Context) error {
	q.close()
	done := make(chan struct{})
	go func() {
		q.workers.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		left := q.queued.Load()
		q.cancel()
		q.log.Error("scim: Shutdown ran out of time: queued events dropped, running hooks cancelled", "queued", left)
		return ctx.Err()
	}
}

// lockedWrite runs write, a Store write to the user id of the request's tenant that emits its event, under
// the user's lock: held from the write through the enqueue, so that the user's events are queued in commit
// order, and released before the response is written, so that a slow client holds up no other writer.
// Without WithEvents it just runs write.
func (h *handler) lockedWrite(r *request, id string, write func() error) error {
	if h.queue == nil {
		return write()
	}
	unlock, err := h.queue.lock(r.Context(), r.tenant, id)
	if err != nil {
		return err
	}
	defer unlock() // deferred: a panicking Store must not keep the stripe
	return write()
}
