package sqlstore

import (
	"container/list"
	"context"
	"fmt"
	"sync"

	"github.com/scimkit/scim"
)

// A gate admits the store's calls to one pool of connections, so that no tenant holds more than its share
// of them and the ones waiting queue per tenant, in the store, rather than in database/sql's one queue
// (which hands a freed connection to a waiter chosen at random: a tenant with 30 calls waiting there takes
// 30 of every 31 connections freed). It holds at most size calls at once (the pool's MaxOpen, so
// database/sql's own queue stays empty) and at most share of one tenant's while other tenants have calls
// in it (a tenant alone may take all but one connection: limit). A call that cannot enter waits
// in its tenant's FIFO; tenants with waiters take the freed connections in turn (round robin), so a
// tenant's turn comes after at most one call of every other waiting tenant. State exists only for tenants
// with calls inside or waiting, and goes with their last one: nothing to sweep.
//
// A nil *gate admits everything (a pool without a bound: nothing to share).
type gate struct {
	size, share int

	mu    sync.Mutex
	busy  int              // calls inside
	lanes map[string]*lane // tenants with calls inside or waiting
	turns list.List        // of *lane: the tenants with waiters, in turn order
}

// lane is one tenant's state in a gate.
type lane struct {
	tenant  string
	inside  int
	waiting []*waiter     // FIFO
	turn    *list.Element // in gate.turns while waiting is not empty
}

type waiter struct {
	ready   chan struct{} // closed when admitted
	entered bool          // admitted (set under the gate's mutex)
}

// newGate returns the gate of a pool of size connections (nil for an unbounded pool) with share of them
// per tenant (at most size; below 1: size).
func newGate(size, share int) *gate {
	if size <= 0 {
		return nil
	}
	if share < 1 || share > size {
		share = size
	}
	return &gate{size: size, share: share, lanes: map[string]*lane{}}
}

// enter admits a call of tenant, waiting for its turn until ctx ends (the request's deadline). It returns
// the lane to give leave, or an error wrapping scim.ErrBusy when ctx ended first.
func (g *gate) enter(ctx context.Context, tenant string) (*lane, error) {
	if g == nil {
		return nil, nil
	}
	g.mu.Lock()
	l := g.lanes[tenant]
	if l == nil {
		l = &lane{tenant: tenant}
		g.lanes[tenant] = l
	}
	// Waiters exist only where their lane is at its limit or the pool is full (a freed connection, or a
	// limit raised, goes to the next eligible waiter at once), so a call that finds room here overtakes no
	// one.
	if l.inside < g.limit(l) && g.busy < g.size {
		l.inside++
		g.busy++
		g.mu.Unlock()
		return l, nil
	}
	w := &waiter{ready: make(chan struct{})}
	l.waiting = append(l.waiting, w)
	if l.turn == nil {
		l.turn = g.turns.PushBack(l)
	}
	g.mu.Unlock()

	select {
	case <-w.ready:
		return l, nil
	case <-ctx.Done():
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if w.entered { // admitted as the context ended: take it, the call sees ctx's error itself
		return l, nil
	}
	for i, o := range l.waiting {
		if o == w {
			l.waiting = append(l.waiting[:i], l.waiting[i+1:]...)
			break
		}
	}
	if len(l.waiting) == 0 {
		g.turns.Remove(l.turn)
		l.turn = nil
	}
	if g.forget(l) {
		g.admitNext() // a tenant left: the one left alone may take more
	}
	return nil, fmt.Errorf("%w: %d of %d connections per tenant, all in use (%w)", scim.ErrBusy, g.share, g.size, ctx.Err())
}

// leave ends a call admitted by enter and hands its connection to the next waiter in turn.
func (g *gate) leave(l *lane) {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	l.inside--
	g.busy--
	g.forget(l)
	g.admitNext()
}

// limit is how many calls l's tenant may have inside: its share while another tenant has calls inside or
// waiting, and all but one connection (at least its share) while it is alone, so that a tenant alone uses
// most of the pool and a tenant arriving still finds a connection free. Called with g.mu held.
func (g *gate) limit(l *lane) int {
	if len(g.lanes) == 1 {
		return max(g.share, g.size-1)
	}
	return g.share
}

// admitNext admits waiters while the pool has room: the first of the first tenant in turn below its limit,
// which then goes to the back of the turns. Tenants at their limit are skipped (each holds at least one
// connection, so at most size of them are). Called with g.mu held.
func (g *gate) admitNext() {
	for g.busy < g.size {
		e := g.turns.Front()
		for e != nil && e.Value.(*lane).inside >= g.limit(e.Value.(*lane)) {
			e = e.Next()
		}
		if e == nil {
			return
		}
		l := e.Value.(*lane)
		w := l.waiting[0]
		l.waiting[0] = nil
		l.waiting = l.waiting[1:]
		l.inside++
		g.busy++
		w.entered = true
		close(w.ready)
		if len(l.waiting) == 0 {
			g.turns.Remove(e)
			l.turn = nil
		} else {
			g.turns.MoveToBack(e)
		}
	}
}

// forget drops l's state once it has no call inside or waiting, and reports whether it did. Called with
// g.mu held.
func (g *gate) forget(l *lane) bool {
	if l.inside == 0 && len(l.waiting) == 0 {
		delete(g.lanes, l.tenant)
		return true
	}
	return false
}

// tenants is how many tenants the gate keeps state for.
func (g *gate) tenants() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.lanes)
}
