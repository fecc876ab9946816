// Package eventq delivers a handler's events to its hook, off the requests' path: a bounded queue drained by
// a fixed set of workers, each key's events (a user's, a group's) always on the same worker and in commit
// order. It is the engine behind scim.WithEvents; the scim package keeps the public configuration
// (scim.EventQueue) and what an event is.
package eventq

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

// Config sizes a Queue: scim.EventQueue's fields, whose documentation they keep.
type Config struct {
	Size, Workers int
	Wait, Timeout time.Duration
}

// Stats counts what became of a queue's events.
type Stats struct {
	Queued                       int
	Delivered, Panicked, Dropped uint64
}

// Stats returns the queue's counts now.
func (q *Queue[E]) Stats() Stats {
	return Stats{Queued: int(q.queued.Load()), Delivered: q.delivered.Load(), Panicked: q.panicked.Load(), Dropped: q.dropped.Load()}
}

// Ended returns a channel closed once the workers have ended (tests watch a dropped handler's queue end).
func (q *Queue[E]) Ended() <-chan struct{} {
	ended := make(chan struct{})
	go func() { q.workers.Wait(); close(ended) }()
	return ended
}

// Queue delivers events to the hook. Two mechanisms together keep each key's events in commit order: a
// striped lock per key (Lock), held by the writer from its Store write through Enqueue, makes enqueue order
// the commit order within the process; and each key's events go to one worker's FIFO lane.
type Queue[E any] struct {
	hook func(context.Context, E)
	// describe gives the log attributes of an event that is dropped or whose hook panics: its type and
	// request, never its data.
	describe func(E) []any
	cfg      Config
	log      *slog.Logger
	seed     maphash.Seed
	// stripes are the per-user locks, by hash: a channel of capacity 1 so that a wait can end with the
	// request's context. Users sharing a stripe only serialise their writes, briefly.
	stripes []chan struct{}

	mu      sync.RWMutex // enqueues hold it shared; closing holds it exclusively, so no send meets a closed lane
	closed  bool
	started bool
	lanes   []chan *queued[E] // one per worker, made with the workers on the first event
	workers sync.WaitGroup

	// abandon ends the running hooks' contexts and makes the workers drop what is left, when Shutdown runs
	// out of time.
	abandon context.Context
	cancel  context.CancelFunc

	queued                       atomic.Int64
	delivered, panicked, dropped atomic.Uint64
}

// queued is an event with the context its hook gets (the request's values, without its cancellation).
type queued[E any] struct {
	ctx context.Context
	e   E
}

const eventStripes = 256

// New returns a queue that calls hook for each event, sized by cfg (zero fields take their defaults). Its
// workers start with the first event.
func New[E any](hook func(context.Context, E), describe func(E) []any, cfg Config, log *slog.Logger) *Queue[E] {
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
	q := &Queue[E]{hook: hook, describe: describe, cfg: cfg, log: log, seed: maphash.MakeSeed(), stripes: make([]chan struct{}, eventStripes)}
	for i := range q.stripes {
		q.stripes[i] = make(chan struct{}, 1)
	}
	q.abandon, q.cancel = context.WithCancel(context.Background())
	return q
}

// slot hashes a key (tenant and id) to its stripe; the stripe modulo the workers is its lane, so a key's
// events always meet the same worker.
func (q *Queue[E]) slot(tenant, id string) int {
	var h maphash.Hash
	h.SetSeed(q.seed)
	h.WriteString(tenant)
	h.WriteByte(0)
	h.WriteString(id)
	return int(h.Sum64() % eventStripes)
}

// Lock takes the key's stripe, or gives up when ctx ends.
func (q *Queue[E]) Lock(ctx context.Context, tenant, id string) (unlock func(), err error) {
	s := q.stripes[q.slot(tenant, id)]
	select {
	case s <- struct{}{}:
		return func() { <-s }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Enqueue queues e on its key's lane, waiting up to cfg.Wait for room; it drops (and counts) the event when
// there is none, or when the queue is closed.
func (q *Queue[E]) Enqueue(ctx context.Context, tenant, key string, e E) {
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
	qe := &queued[E]{ctx: ctx, e: e}
	lane := q.lanes[q.slot(tenant, key)%len(q.lanes)]
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

// start makes the lanes and their workers, once, on the first event: a handler that never changes a
// resource runs no goroutine.
func (q *Queue[E]) start() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.started || q.closed {
		return
	}
	per := (q.cfg.Size + q.cfg.Workers - 1) / q.cfg.Workers
	q.lanes = make([]chan *queued[E], q.cfg.Workers)
	for i := range q.lanes {
		q.lanes[i] = make(chan *queued[E], per)
		q.workers.Add(1)
		go q.work(q.lanes[i])
	}
	q.started = true
}

// work delivers one lane's events in order until the lane is closed and empty.
func (q *Queue[E]) work(lane <-chan *queued[E]) {
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
func (q *Queue[E]) deliver(e *queued[E]) {
	ctx, cancel := context.WithTimeout(e.ctx, q.cfg.Timeout)
	defer cancel()
	stop := context.AfterFunc(q.abandon, cancel)
	defer stop()
	defer func() {
		q.delivered.Add(1)
		if v := recover(); v != nil {
			q.panicked.Add(1)
			q.log.ErrorContext(ctx, "scim: event hook panicked", append(q.describe(e.e),
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))...)
		}
	}()
	q.hook(ctx, e.e)
}

// drop counts and logs an event that will never be delivered: its type and request, never its data.
func (q *Queue[E]) drop(e E, why string) {
	q.dropped.Add(1)
	q.log.Error("scim: event dropped: "+why, q.describe(e)...)
}

// Close stops accepting events and lets the workers end once their lanes are empty.
func (q *Queue[E]) Close() {
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

// Shutdown closes the queue and waits for the workers to deliver what is queued, or for ctx to end.
func (q *Queue[E]) Shutdown(ctx context.Context) error {
	q.Close()
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
