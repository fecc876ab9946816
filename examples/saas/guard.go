package main

import (
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Sign-in throttling. A password check costs about 100 ms of CPU (PBKDF2, passwordIterations), so an open
// login form is an easy way to burn a server's CPU or guess a password at leisure. Three bounds keep it
// cheap and fair, and none of them lets one client lock another out:
//
//   - per client address, attempts per window (loginsPerIP), so one client cannot take every hashing slot;
//   - per (login, client address), an exponential back-off (backoff): after freeFailures failed attempts,
//     each further attempt of that pair must wait backoffBase, then twice as long after each failure, up to
//     backoffMax; a success clears it. The failures of an attacker's address never delay the same login
//     from another address, so nobody can lock an admin out by failing on purpose (a fixed lockout per
//     login could). Logins are counted whether they exist or not: a 429 tells nothing about which exist.
//     Guessing from many addresses is bounded by each address's budget and the password's strength (the
//     demo's are 12 random characters);
//   - at most one password check per CPU (GOMAXPROCS) runs at once; when all are busy the request gets 429 at once
//     rather than a queue that grows with the attack.
//
// Each refusal is a 429 with Retry-After, before any hashing. The tables are of bounded size (tableEntries),
// and a pair's failures are forgotten backoffForget after its last attempt. Behind a proxy every request
// comes from the proxy's address: key on the client address it reports instead.
const (
	loginsPerIP   = 30
	loginWindow   = 15 * time.Minute
	freeFailures  = 5
	backoffBase   = time.Second
	backoffMax    = 15 * time.Minute
	backoffForget = 24 * time.Hour
	tableEntries  = 10_000
)

// window counts attempts per key in fixed windows, in a table of at most size keys.
type window struct {
	mu      sync.Mutex
	limit   int
	period  time.Duration
	size    int
	entries map[string]*windowEntry
}

// windowEntry is a key's count in its current window.
type windowEntry struct {
	n    int
	ends time.Time
}

func newWindow(limit int, period time.Duration, size int) *window {
	return &window{limit: limit, period: period, size: size, entries: map[string]*windowEntry{}}
}

// take counts an attempt for key at now. When key has used its limit it counts nothing and returns false
// with the time left until its window ends.
func (w *window) take(key string, now time.Time) (time.Duration, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	e := w.entries[key]
	if e != nil && !now.Before(e.ends) {
		e = nil // its window is over
	}
	if e == nil {
		w.makeRoom(now)
		e = &windowEntry{ends: now.Add(w.period)}
		w.entries[key] = e
	}
	if e.n >= w.limit {
		return e.ends.Sub(now), false
	}
	e.n++
	return 0, true
}

// makeRoom keeps the table under its bound: it drops the entries whose window is over and, if it is still
// full (an attack from very many addresses or on very many logins), the one whose window ends first, which
// holds the least.
func (w *window) makeRoom(now time.Time) {
	if len(w.entries) < w.size {
		return
	}
	var first string
	for k, e := range w.entries {
		if !now.Before(e.ends) {
			delete(w.entries, k)
		} else if first == "" || e.ends.Before(w.entries[first].ends) {
			first = k
		}
	}
	if len(w.entries) >= w.size {
		delete(w.entries, first)
	}
}

// undo gives back an attempt take counted, for a request turned away before it cost anything.
func (w *window) undo(key string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if e := w.entries[key]; e != nil && e.n > 0 {
		e.n--
	}
}

// backoff spaces out the attempts of each key (a login and a client address) once it has failed free
// times: the attempt after the key's f-th failure waits base × 2^(f−free), at most max. Only keys that failed
// have an entry; the table holds at most size of them.
type backoff struct {
	mu        sync.Mutex
	free      int
	base, max time.Duration
	forget    time.Duration
	size      int
	entries   map[string]*backoffEntry
}

// backoffEntry is a key's failures and when it may try again.
type backoffEntry struct {
	failures int
	next     time.Time // no attempt before
	last     time.Time // the last attempt; the entry is forgotten forget after it
}

func newBackoff(free int, base, max, forget time.Duration, size int) *backoff {
	return &backoff{free: free, base: base, max: max, forget: forget, size: size, entries: map[string]*backoffEntry{}}
}

// wait is how long a key that failed failures times waits before its next attempt.
func (b *backoff) wait(failures int) time.Duration {
	if failures < b.free {
		return 0
	}
	d := b.base
	for range failures - b.free {
		if d >= b.max {
			break // doubling on would only pass the cap (and could overflow)
		}
		d *= 2
	}
	return min(d, b.max)
}

// take admits an attempt of key at now, or returns how long it must wait. An admitted attempt of a key
// that is backing off holds the key as if it had failed already, so that concurrent attempts wait too
// rather than all being checked at once.
func (b *backoff) take(key string, now time.Time) (time.Duration, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.entries[key]
	if e != nil && !now.Before(e.last.Add(b.forget)) {
		delete(b.entries, key) // long quiet: forgotten
		e = nil
	}
	if e == nil {
		return 0, true
	}
	if now.Before(e.next) {
		return e.next.Sub(now), false
	}
	e.last, e.next = now, now.Add(b.wait(e.failures))
	return 0, true
}

// settle records the outcome of an attempt take admitted at now: a success forgets key, a failure counts.
func (b *backoff) settle(key string, ok bool, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if ok {
		delete(b.entries, key)
		return
	}
	e := b.entries[key]
	if e == nil {
		b.makeRoom(now)
		e = &backoffEntry{}
		b.entries[key] = e
	}
	e.failures++
	e.last, e.next = now, now.Add(b.wait(e.failures))
}

// makeRoom keeps the table under its bound: it drops the forgotten entries and, if it is still full (an
// attack from very many addresses or on very many logins), the one quiet the longest.
func (b *backoff) makeRoom(now time.Time) {
	if len(b.entries) < b.size {
		return
	}
	var oldest string
	for k, e := range b.entries {
		if !now.Before(e.last.Add(b.forget)) {
			delete(b.entries, k)
		} else if oldest == "" || e.last.Before(b.entries[oldest].last) {
			oldest = k
		}
	}
	if len(b.entries) >= b.size {
		delete(b.entries, oldest)
	}
}

// loginGuard holds the sign-in bounds of one app.
type loginGuard struct {
	perIP   *window
	pairs   *backoff      // keyed by client address and login (pairKey)
	hashing chan struct{} // one token per password check running
}

func newLoginGuard(perIP, free, slots int) *loginGuard {
	return &loginGuard{
		perIP:   newWindow(perIP, loginWindow, tableEntries),
		pairs:   newBackoff(free, backoffBase, backoffMax, backoffForget, tableEntries),
		hashing: make(chan struct{}, slots),
	}
}

// pairKey is the back-off key of login from the client address ip (clientKey's, which holds no NUL).
func pairKey(ip, login string) string { return ip + "\x00" + login }

// admit decides whether a sign-in may check its password now. When it may, the caller checks the password,
// then calls done with the outcome. When it may not, retry says how long to wait.
func (g *loginGuard) admit(r *http.Request, login string, now time.Time) (done func(ok bool), retry time.Duration) {
	ip := clientKey(r.RemoteAddr)
	if retry, ok := g.perIP.take(ip, now); !ok {
		return nil, retry
	}
	select {
	case g.hashing <- struct{}{}:
	default: // every slot busy: the client did nothing wrong, so the attempt is not counted
		g.perIP.undo(ip)
		return nil, time.Second
	}
	key := pairKey(ip, login)
	if retry, ok := g.pairs.take(key, now); !ok {
		<-g.hashing
		return nil, retry // counted against the address: a client ignoring Retry-After spends its own budget
	}
	return func(ok bool) {
		<-g.hashing
		g.pairs.settle(key, ok, now)
	}, 0
}

// clientKey is what a client's attempts are counted under: its IP address, or for IPv6 its /64, which one
// host typically owns whole.
func clientKey(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return ip.String()
}

// retryAfter formats d for the Retry-After header: whole seconds, rounded up, at least 1.
func retryAfter(d time.Duration) string {
	s := int((d + time.Second - 1) / time.Second)
	return strconv.Itoa(max(s, 1))
}
