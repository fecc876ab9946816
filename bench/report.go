package main

import (
	"fmt"
	"html"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// series are the servers in table and chart order.
var series = []struct{ server, store, color string }{
	{"ours", "memory", "#1f77b4"},
	{"ours", "sqlite", "#2ca02c"},
	{"ours", "postgres", "#9467bd"},
	{"elimity", "map", "#ff7f0e"},
	{"ceiling", "-", "#7f7f7f"},
}

func seriesIndex(r row) int {
	return slices.IndexFunc(series, func(s struct{ server, store, color string }) bool {
		return s.server == r.Server && s.store == r.Store
	})
}

func find(rows []row, server, store, op string, users int) *row {
	for i := range rows {
		r := &rows[i]
		if r.Server == server && r.Store == store && r.Op == op && r.Users == users {
			return r
		}
	}
	return nil
}

func ratio(a, b *row) string {
	if a == nil || b == nil || b.RPS == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", a.RPS/b.RPS)
}

func fmtUsers(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1_000 && n%1_000 == 0:
		return fmt.Sprintf("%dk", n/1_000)
	}
	return fmt.Sprint(n)
}

func us(v float64) string { return fmtDur(durationUS(v)) }

// sortRows orders rows by size, op, then series.
func sortRows(rows []row) []row {
	rows = slices.Clone(rows)
	opIndex := func(op string) int {
		if op == opInitialSync {
			return len(allOps)
		}
		return slices.Index(allOps, op)
	}
	slices.SortStableFunc(rows, func(a, b row) int {
		ka := [3]int{a.Users, opIndex(a.Op), seriesIndex(a)}
		kb := [3]int{b.Users, opIndex(b.Op), seriesIndex(b)}
		if a.Op == opInitialSync || b.Op == opInitialSync { // the initial sync goes last, whatever its size
			ka[0], kb[0] = boolInt(a.Op == opInitialSync), boolInt(b.Op == opInitialSync)
		}
		return slices.Compare(ka[:], kb[:])
	})
	return rows
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func printTable(w io.Writer, m string, o options, rows []row, ex extras) {
	fmt.Fprintf(w, "\nmachine: %s\nconcurrency %d (sync: 8), %s per op and server, loopback, %s\n\n", m, o.conc, o.duration, where(o))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "server\tstore\top\tusers\trps\tp50\tp99\tcpu/req\tallocs/req\tcpu-ceiling\tours/ceiling\tours/elimity\t")
	for _, r := range sortRows(rows) {
		if isGroupOp(r.Op) || r.Op == opWalk {
			continue // printGroupTable's, printWalkTable's
		}
		cr, er, above := "", "", ""
		if r.Server == "ours" {
			c := find(rows, "ceiling", "-", r.Op, r.Users)
			cr = ratio(&r, c)
			er = ratio(&r, find(rows, "elimity", "map", r.Op, r.Users))
			if c != nil && c.CPUus > 0 && r.CPUus > 0 {
				above = fmt.Sprintf("%+.1fµs", r.CPUus-c.CPUus)
			}
		}
		note := ""
		if r.partial {
			note = fmt.Sprintf(" (%d done)", r.iters)
		}
		if r.errors > 0 {
			note += fmt.Sprintf(" (%d errors)", r.errors)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Server, r.Store, r.Op, fmtUsers(r.Users),
			fmtRate(r.RPS), note, us(r.P50us), us(r.P99us), cpuCell(&r), allocCell(&r), above, cr, er)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nrps is requests/s; for sync and initial-sync it is users/s (each user: a userName filter, then a POST),")
	fmt.Fprintln(w, "and p50/p99 are per user. initial-sync: users into an empty store; the other rows: a store of `users` users.")
	fmt.Fprintln(w, "doc-get and doc-eq: GET /Accounts/{id} and name eq, a declared type served beside the users (ours only),")
	fmt.Fprintln(w, "as many Accounts as users unless -docs says otherwise.")
	if !o.inProcess {
		fmt.Fprintln(w, "cpu/req and allocs/req: the server process's CPU time (user+system, from getrusage) and heap allocations")
		fmt.Fprintln(w, "(MemStats.Mallocs) over the measured runs, per HTTP request (sync: a user is two); net/http and GC")
		fmt.Fprintln(w, "included, the load generator not, nor PostgreSQL's own processes. cpu-ceiling: ours minus the ceiling's.")
	}
	printWalkTable(w, rows)

	if ex.heapUsers > 0 {
		fmt.Fprintf(w, "\nheap per Entra-mapped user at %s users: memstore %.0f B", fmtUsers(ex.heapUsers), ex.heapPerUser)
		if ex.elimHeapPerUser > 0 {
			fmt.Fprintf(w, "; elimity map handler %.0f B", ex.elimHeapPerUser)
		}
		fmt.Fprintln(w)
	}
	if len(ex.allocs) > 0 {
		fmt.Fprintln(w, "\nallocations per request, in process (handler only: minus building the request and a status-only writer):")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "op\tours\telimity\t")
		for _, op := range microOps {
			var v [2]float64
			for _, a := range ex.allocs {
				if a.op == op {
					v[boolInt(a.server != "ours")] = a.total - a.harness
				}
			}
			fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t\n", op, v[0], v[1])
		}
		tw.Flush()
	}
	printTargets(w, o, rows, ex)
}

// where says where the servers ran.
func where(o options) string {
	switch {
	case o.inProcess:
		return "servers in the load generator's process"
	case o.pinned != "":
		return "each server in a child process; " + o.pinned
	}
	return "each server in a child process (not pinned)"
}

func cpuCell(r *row) string {
	if r == nil || r.CPUus <= 0 {
		return "-"
	}
	if r.CPUus >= 1000 {
		return us(r.CPUus)
	}
	return strconv.FormatFloat(r.CPUus, 'f', 1, 64) + "µs"
}

func allocCell(r *row) string {
	if r == nil || r.CPUus <= 0 {
		return "-"
	}
	return strconv.FormatFloat(r.Allocs, 'f', 0, 64)
}

// printWalkTable writes the deep walks.
func printWalkTable(w io.Writer, rows []row) {
	var walks []row
	for _, r := range sortRows(rows) {
		if r.Op == opWalk {
			walks = append(walks, r)
		}
	}
	if len(walks) == 0 {
		return
	}
	fmt.Fprintf(w, "\nwalk100: every user, GET /Users?startIndex=s&count=%d, s = 1, %d, …, one client (Okta's import)\n\n", walkPage, walkPage+1)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "server\tstore\tusers\tpages\tfirst page p50\tdeepest pages p50\tall pages p50\tp99\twalk\tcpu/page\tallocs/page\t")
	for _, r := range walks {
		pages := strconv.Itoa(r.Pages)
		if r.partial {
			pages = fmt.Sprintf("%d of %d (stopped)", r.Pages, r.PagesTotal)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Server, r.Store, fmtUsers(r.Users), pages,
			us(r.FirstP50us), us(r.DeepP50us), us(r.P50us), us(r.P99us), fmtDur(time.Duration(r.WalkSeconds*float64(time.Second))),
			cpuCell(&r), allocCell(&r))
	}
	tw.Flush()
	fmt.Fprintf(w, "first page: asked %d times alone before the walk; deepest: the walk's last tenth of pages (at least %d);\n", walkFirstTries, walkDeepMin)
	fmt.Fprintf(w, "a walk stopped at -walk-timeout asks the store's last %d pages instead. walk: the time of the pages walked.\n", walkDeepMin)
}

// printTargets checks issue 5's targets against what was measured.
func printTargets(w io.Writer, o options, rows []row, ex extras) {
	fmt.Fprintln(w, "\ntargets (issue 5):")
	verdict := func(ok bool) string {
		if ok {
			return "MET"
		}
		return "MISSED"
	}
	big, small := o.sizes[len(o.sizes)-1], o.sizes[0]
	at := ""
	if big != 1_000_000 {
		at = fmt.Sprintf(" [measured at %s: the target is at 1M]", fmtUsers(big))
	}
	for _, op := range []string{opGet, opEqHit} {
		r, c := find(rows, "ours", "memory", op, big), find(rows, "ceiling", "-", op, big)
		if r != nil && c != nil {
			v := r.RPS / c.RPS
			fmt.Fprintf(w, "  %-7s over memstore >= 0.75x ceiling: %.2fx  %s%s\n", op, v, verdict(v >= 0.75), at)
			if r.CPUus > 0 && c.CPUus > 0 { // the same target judged on server CPU: ceiling's CPU over ours
				v := c.CPUus / r.CPUus
				fmt.Fprintf(w, "  %-7s over memstore, server CPU/req: ceiling %s / ours %s = %.2fx (ours %+.1fµs above)  %s%s\n", op,
					cpuCell(c), cpuCell(r), v, r.CPUus-c.CPUus, verdict(v >= 0.75), at)
			}
		}
	}
	for _, n := range o.sizes {
		var misses []string
		worst, worstOp := math.Inf(1), ""
		for _, op := range allOps {
			r, e := find(rows, "ours", "memory", op, n), find(rows, "elimity", "map", op, n)
			if r == nil || e == nil {
				continue
			}
			v := r.RPS / e.RPS
			if v < worst {
				worst, worstOp = v, op
			}
			if v < 1.3 {
				misses = append(misses, fmt.Sprintf("%s %.2fx", op, v))
			}
		}
		if worstOp != "" {
			fmt.Fprintf(w, "  every op >= 1.3x elimity at %s (ours/memory): lowest %s %.2fx  %s", fmtUsers(n), worstOp, worst, verdict(len(misses) == 0))
			if len(misses) > 0 {
				fmt.Fprintf(w, " (%s)", strings.Join(misses, ", "))
			}
			fmt.Fprintln(w)
		}
	}
	if big > small {
		for _, s := range series {
			if s.server != "ours" {
				continue
			}
			a, b := find(rows, "ours", s.store, opEqHit, small), find(rows, "ours", s.store, opEqHit, big)
			if a == nil || b == nil || a.P50us == 0 {
				continue
			}
			v := b.P50us / a.P50us
			fmt.Fprintf(w, "  userName eq p50 %s/%s over %-8s < 1.5x: %s / %s = %.2fx  %s\n", fmtUsers(big), fmtUsers(small),
				s.store, us(b.P50us), us(a.P50us), v, verdict(v < 1.5))
		}
	}
	if r := find(rows, "ours", "sqlite", opInitialSync, o.syncUsers); r != nil {
		part := ""
		if r.partial {
			part = fmt.Sprintf(" (only %d users before the time limit)", r.iters)
		}
		fmt.Fprintf(w, "  initial sync of %s users into SQLite >= 2000 users/s: %.0f users/s%s  %s\n", fmtUsers(o.syncUsers), r.RPS, part, verdict(r.RPS >= 2000))
	} else if r := find(rows, "ours", "sqlite", opSync, big); r != nil {
		fmt.Fprintf(w, "  sync into SQLite holding %s users >= 2000 users/s: %.0f users/s  %s [the full run syncs %s users into an empty store]\n",
			fmtUsers(big), r.RPS, verdict(r.RPS >= 2000), fmtUsers(100_000))
	}
	if ex.heapUsers > 0 {
		fmt.Fprintf(w, "  memstore heap per user at %s <= 1024 B: %.0f B  %s\n", fmtUsers(ex.heapUsers), ex.heapPerUser, verdict(ex.heapPerUser <= 1024))
	}
	for _, a := range ex.allocs {
		if a.server == "ours" && a.op == opGet {
			v := a.total - a.harness
			fmt.Fprintf(w, "  GET by id <= 25 allocations: %.0f (handler; %.0f with request and writer)  %s\n", v, a.total, verdict(v <= 25))
		}
	}
	if r, c := find(rows, "ours", "memory", opGet, big), find(rows, "ceiling", "-", opGet, big); r != nil && c != nil && r.CPUus > 0 && c.CPUus > 0 {
		v := r.Allocs - c.Allocs
		fmt.Fprintf(w, "  GET by id <= 25 allocations, server process: ours %.0f - ceiling %.0f (net/http's share) = %.0f  %s\n",
			r.Allocs, c.Allocs, v, verdict(v <= 25))
	}
	for _, n := range o.sizes { // issue 17: a declared type's reads within 1.3x the User path's server CPU
		for _, s := range series {
			for _, p := range [][2]string{{opDocGet, opGet}, {opDocEq, opEqHit}} {
				d, u := find(rows, "ours", s.store, p[0], n), find(rows, "ours", s.store, p[1], n)
				if s.server != "ours" || d == nil || u == nil || d.CPUus <= 0 || u.CPUus <= 0 {
					continue
				}
				v := d.CPUus / u.CPUus
				fmt.Fprintf(w, "  %s / %s server CPU/req over %-8s at %-4s <= 1.3x (issue 17): %s / %s = %.2fx  %s\n", p[0], p[1],
					s.store, fmtUsers(n), cpuCell(d), cpuCell(u), v, verdict(v <= 1.3))
			}
		}
	}
}

// chartSVG draws requests/s per op and server at one size as grouped bars on a log scale.
func chartSVG(rows []row, users int, m string) []byte {
	var present []int // series with data at this size
	for i, s := range series {
		for _, op := range allOps {
			if find(rows, s.server, s.store, op, users) != nil {
				present = append(present, i)
				break
			}
		}
	}
	lo, hi := math.Inf(1), 0.0
	for _, r := range rows {
		if r.Users == users && r.Op != opInitialSync && r.RPS > 0 {
			lo, hi = min(lo, r.RPS), max(hi, r.RPS)
		}
	}
	if hi == 0 {
		lo, hi = 1, 10
	}
	dlo, dhi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if dhi == dlo {
		dhi++
	}
	const W, H, left, right, top, bottom = 1000, 520, 80, 20, 70, 90
	pw, ph := float64(W-left-right), float64(H-top-bottom)
	y := func(v float64) float64 { return top + ph*(1-(math.Log10(v)-dlo)/(dhi-dlo)) }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", W, H, W, H)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", W, H)
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="16" font-weight="bold">SCIM server throughput at %s users (requests/s, log scale; sync: users/s; higher is better)</text>`+"\n", left, fmtUsers(users))
	fmt.Fprintf(&b, `<text x="%d" y="42" fill="#555">%s; loopback</text>`+"\n", left, html.EscapeString(m))
	for d := dlo; d <= dhi; d++ {
		for _, k := range []float64{1, 2, 5} {
			v := k * math.Pow(10, d)
			if v > math.Pow(10, dhi) {
				continue
			}
			yy := y(v)
			stroke, width := "#eee", 1
			if k == 1 {
				stroke = "#ccc"
			}
			fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s" stroke-width="%d"/>`+"\n", left, yy, W-right, yy, stroke, width)
			fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" fill="#555">%s</text>`+"\n", left-6, yy+4, axisLabel(v))
		}
	}
	groupW := pw / float64(len(allOps))
	barW := groupW * 0.8 / float64(max(len(present), 1))
	for g, op := range allOps {
		x0 := float64(left) + float64(g)*groupW + groupW*0.1
		for j, si := range present {
			s := series[si]
			r := find(rows, s.server, s.store, op, users)
			if r == nil || r.RPS <= 0 {
				continue
			}
			x, yy := x0+float64(j)*barW, y(max(r.RPS, math.Pow(10, dlo)))
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s/%s %s: %s/s, p50 %s, p99 %s</title></rect>`+"\n",
				x, yy, barW-1, float64(top)+ph-yy, s.color, s.server, s.store, op, fmtRate(r.RPS), us(r.P50us), us(r.P99us))
			fmt.Fprintf(&b, `<text transform="translate(%.1f,%.1f) rotate(-90)" font-size="9" fill="#333">%s</text>`+"\n", x+barW/2+3, yy-3, fmtRate(r.RPS))
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", x0+groupW*0.4, float64(top)+ph+18, op)
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#333"/>`+"\n", left, float64(top)+ph, W-right, float64(top)+ph)
	lx := float64(left)
	for _, si := range present {
		s := series[si]
		label := s.server + "/" + s.store
		if s.server == "ceiling" {
			label = "ceiling (bare net/http)"
		}
		if s.server == "elimity" {
			label = "elimity-com/scim (map handler)"
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="12" height="12" fill="%s"/><text x="%.1f" y="%d">%s</text>`+"\n", lx, H-40, s.color, lx+16, H-30, label)
		lx += 30 + 7*float64(len(label))
	}
	b.WriteString("</svg>\n")
	return []byte(b.String())
}

// axisLabel writes 1, 2, 5, 10, ..., 1k, 2k, ..., 1M.
func axisLabel(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + "M"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// printGroupTable writes the group ops as docs/benchmarks.md's Markdown table, one line per server, and checks the
// Groups issue's targets.
func printGroupTable(w io.Writer, m string, sc groupScale, rows []row) {
	fmt.Fprintf(w, "\nGroups (machine: %s; one client for the first three columns, %d for the sync)\n\n", m, groupSyncConc)
	fmt.Fprintf(w, "| server/store | add 1 member, group of 100 (p50) | group of %s (p50) | ratio | GET /Groups?startIndex=1&count=100 over %s groups of %s (p50) | sync: create %s groups (groups/s) | sync: add %s memberships (memberships/s) | sync PATCH p50 / p99 | server CPU/req: add 100 / add big / list / create / sync PATCH |\n",
		fmtUsers(sc.big), fmtUsers(sc.listGroups), fmtUsers(sc.listMembers), fmtUsers(sc.syncGroups), fmtUsers(sc.syncMembers))
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|")
	get := func(s struct{ server, store, color string }, op string) *row {
		for i := range rows {
			if r := &rows[i]; r.Server == s.server && r.Store == s.store && r.Op == op {
				return r
			}
		}
		return nil
	}
	p50 := func(r *row) string {
		if r == nil {
			return "-"
		}
		return us(r.P50us) + errNoteRow(r)
	}
	var targets []string
	verdict := map[bool]string{true: "MET", false: "MISSED"}
	for _, s := range series {
		small, big, list := get(s, opGroupAddSmall), get(s, opGroupAddBig), get(s, opGroupsList)
		create, syn := get(s, opGroupCreate), get(s, opGroupSync)
		if small == nil && big == nil && list == nil && create == nil && syn == nil {
			continue
		}
		ratio, patch := "-", "-"
		rate := func(r *row) string {
			if r == nil {
				return "-"
			}
			return fmtRate(r.RPS)
		}
		if small != nil && big != nil && small.P50us > 0 {
			v := big.P50us / small.P50us
			ratio = fmt.Sprintf("%.2fx", v)
			if s.server == "ours" {
				targets = append(targets, fmt.Sprintf("  add 1 member p50, group of %s / group of 100 over %-8s < 1.5x: %.2fx  %s",
					fmtUsers(sc.big), s.store, v, verdict[v < 1.5]))
			}
		}
		if list != nil && s.server == "ours" && s.store != "memory" {
			targets = append(targets, fmt.Sprintf("  GET /Groups page of 100 over %s groups of %s, p50 over %-8s < 50 ms: %s  %s",
				fmtUsers(sc.listGroups), fmtUsers(sc.listMembers), s.store, us(list.P50us), verdict[list.P50us < 50_000]))
		}
		if syn != nil {
			patch = us(syn.P50us) + " / " + us(syn.P99us)
		}
		var cpus []string
		for _, r := range []*row{small, big, list, create, syn} {
			cpus = append(cpus, cpuCell(r))
		}
		fmt.Fprintf(w, "| %s/%s | %s | %s | %s | %s | %s | %s | %s | %s |\n", s.server, s.store, p50(small), p50(big), ratio,
			p50(list), rate(create), rate(syn), patch, strings.Join(cpus, " / "))
	}
	if sc != fullGroupScale {
		fmt.Fprintln(w, "\n(scaled down: the targets are set at a group of 100k and 1,000 groups of 1,000)")
	}
	fmt.Fprintln(w, "\ntargets (Groups issue):")
	for _, t := range targets {
		fmt.Fprintln(w, t)
	}
}

func errNoteRow(r *row) string {
	if r.errors == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d errors)", r.errors)
}
