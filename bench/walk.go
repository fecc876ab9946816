package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// The deep walk (walk100): Okta's import shape, every user read by one client with
// GET /Users?startIndex=s&count=100, s = 1, 101, 201, … until the total is reached. It reports the first
// page's p50 (asked alone walkFirstTries times before the walk), the p50 of the walk's deepest pages (its
// last tenth, at least walkDeepMin pages), and the whole walk's time; with child processes, the server's
// CPU and allocations per page over the walk. A walk that takes longer than its budget (-walk-timeout) stops
// there and asks the last walkDeepMin pages instead, for the deepest pages' p50; the row says how far it got.

const (
	opWalk         = "walk100"
	walkPage       = 100
	walkFirstTries = 15
	walkDeepMin    = 10
)

func walkURI(start int) string {
	return "/Users?startIndex=" + strconv.Itoa(start) + "&count=" + strconv.Itoa(walkPage)
}

// walk walks t's users and checks every page: its size, its first user (creation order) among the n
// seeded ones, and that the walk saw every user (ours over memstore holds the ceiling's captured POSTs
// too, after the seeded users).
func walk(t *target, n int, budget time.Duration) (row, error) {
	total := -1
	page := func(start int) (time.Duration, int, error) {
		c := call{method: "GET", uri: walkURI(start), status: 200}
		t0 := time.Now()
		status, body, _, err := t.do(c)
		took := time.Since(t0)
		if err == nil && status != c.status {
			err = fmt.Errorf("status %d: %.300s", status, body)
		}
		var doc struct {
			TotalResults int `json:"totalResults"`
			ItemsPerPage int `json:"itemsPerPage"`
		}
		if err == nil {
			err = json.Unmarshal(body, &doc)
		}
		if err == nil && total < 0 {
			total = doc.TotalResults
			if total < n {
				err = fmt.Errorf("totalResults %d, want at least %d", total, n)
			}
		}
		want := min(walkPage, total-start+1)
		if err == nil && (doc.TotalResults != total || doc.ItemsPerPage != want) {
			err = fmt.Errorf("totalResults %d, itemsPerPage %d; want %d, %d", doc.TotalResults, doc.ItemsPerPage, total, want)
		}
		if err == nil && start <= n && !bytes.Contains(body, []byte(`"userName":"`+userName(start-1)+`"`)) {
			err = fmt.Errorf("the page does not start with %s: %.300s", userName(start-1), body)
		}
		if err != nil {
			return 0, 0, fmt.Errorf("%s walk: GET %s: %w", t.name(), c.uri, err)
		}
		return took, doc.ItemsPerPage, nil
	}
	var first []time.Duration
	for range walkFirstTries {
		d, _, err := page(1)
		if err != nil {
			return row{}, err
		}
		first = append(first, d)
	}
	var lat []time.Duration
	var walkErr error
	stopped := false
	l := t.measured(func() load {
		t0 := time.Now()
		seen := 0
		for start := 1; start <= total; start += walkPage {
			if time.Since(t0) > budget {
				stopped = true
				break
			}
			d, k, err := page(start)
			if err != nil {
				walkErr = err
				break
			}
			lat = append(lat, d)
			seen += k
		}
		if walkErr == nil && !stopped && seen != total {
			walkErr = fmt.Errorf("%s walk: %d users seen, want %d", t.name(), seen, total)
		}
		return load{iters: len(lat), requests: len(lat), elapsed: time.Since(t0)}
	})
	if walkErr != nil {
		return row{}, walkErr
	}
	pages := (total + walkPage - 1) / walkPage
	var deep []time.Duration
	if stopped {
		for p := max(pages-walkDeepMin, len(lat)); p < pages; p++ {
			d, _, err := page(p*walkPage + 1)
			if err != nil {
				return row{}, err
			}
			deep = append(deep, d)
		}
	} else {
		deep = slices.Clone(lat[len(lat)-min(len(lat), max(walkDeepMin, len(lat)/10)):])
	}
	if len(deep) == 0 {
		deep = slices.Clone(lat)
	}
	slices.Sort(first)
	slices.Sort(deep)
	l.lat = slices.Clone(lat)
	slices.Sort(l.lat)
	p50 := func(d []time.Duration) float64 { return float64(d[len(d)/2]) / float64(time.Microsecond) }
	r := row{Server: t.server, Store: t.store, Op: opWalk, Users: n, RPS: l.rate(),
		P50us: float64(l.quantile(0.5)) / float64(time.Microsecond), P99us: float64(l.quantile(0.99)) / float64(time.Microsecond),
		Pages: len(lat), PagesTotal: pages, FirstP50us: p50(first), DeepP50us: p50(deep), WalkSeconds: l.elapsed.Seconds(),
		iters: len(lat), partial: stopped}
	r.CPUus, r.Allocs = l.perRequest()
	logf("[%d] %-16s %-12s %d of %d pages in %s: first page p50 %s, deepest %d p50 %s%s", n, t.name(), opWalk, r.Pages, pages,
		l.elapsed.Round(time.Millisecond), us(r.FirstP50us), len(deep), us(r.DeepP50us), cpuNote(r, l))
	return r, nil
}
