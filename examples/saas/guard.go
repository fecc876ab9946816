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
// cheap and fair:
//
//   - per client address, attempts per window (loginsPerIP), so one client cannot take every hashing slot;
//   - per login, failed attempts per window (loginsPerAccount), so a password cannot be guessed from many
//     addresses; a success clears it. Logins are counted whether they exist or not: a 429 tells nothing
//     about which logins exist;
//   - at most one password check per CPU (GOMAXPROCS) runs at once; when all are busy the request gets 429 at once
//     rather than a queue that grows with the attack.
//
// Each refusal is a 429 with Retry-After. The counters live in tables of bounded size (windowEntries).
// Behind a proxy every request comes from the proxy's address: key on the client address it reports instead.
const (
	loginsPerIP      = 30
	loginsPerAccount = 5
	loginWindow      = 15 * time.Minute
	windowEntries    = 10_000
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

// reset forgets key's attempts: a successful sign-in clears the login's failures.
func (w *window) reset(key string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.entries, key)
}

// loginGuard holds the sign-in bounds of one app.
type loginGuard struct {
	perIP, perLogin *window
	hashing         chan struct{} // one token per password check running
}

func newLoginGuard(perIP, perLogin, slots int) *loginGuard {
	return &loginGuard{
		perIP:    newWindow(perIP, loginWindow, windowEntries),
		perLogin: newWindow(perLogin, loginWindow, windowEntries),
		hashing:  make(chan struct{}, slots),
	}
}

// admit decides whether a sign-in may check its password now. When it may, the caller checks the password,
// then calls done with the outcome. When it may not, retry says how long to wait.
func (g *loginGuard) admit(r *http.Request, login string, now time.Time) (done func(ok bool), retry time.Duration) {
	ip := clientKey(r.RemoteAddr)
	if retry, ok := g.perIP.take(ip, now); !ok {
		return nil, retry
	}
	if retry, ok := g.perLogin.take(login, now); !ok {
		return nil, retry // counted against the address too: spraying one login costs the sprayer
	}
	select {
	case g.hashing <- struct{}{}:
	default: // every slot busy: the client did nothing wrong, so the attempt is not counted
		g.perIP.undo(ip)
		g.perLogin.undo(login)
		return nil, time.Second
	}
	return func(ok bool) {
		<-g.hashing
		if ok {
			g.perLogin.reset(login)
		}
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
