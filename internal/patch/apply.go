package patch

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/internal/document"
	"github.com/scimkit/scim/internal/echo"
	"github.com/scimkit/scim/internal/normalize"
	"github.com/scimkit/scim/schema"
)

// Env is what applying a PATCH needs beside the document: the resource type, the report of ignored
// keys, the request's context (checked before every Operation, so a PATCH that runs out of time stops), the
// most values a multi-valued attribute may hold and the request's work budget.
type Env struct {
	Ctx       context.Context
	RT        *schema.ResourceType
	Ignored   func(string)
	MaxValues int
	Work      Budget
}

// Budget is the request's work budget (scim.Limits.MaxWork): Charge spends units and fails past the
// limit, Afford fails when units are more than what is left, spending nothing.
type Budget interface {
	Charge(n int) error
	Afford(n int) error
}

// Apply applies ops to doc in order; on error doc is left half-changed and must be discarded. Keys of
// path-less values that name no attribute of rt are reported to ignored. Every Operation costs time linear
// in the values it touches (sets keyed by canonical JSON, never pairwise comparisons), times the comparisons
// of its value filter: what the operations cost together is charged to the work budget before each is
// applied, so that many operations over many values stop at the limit (Limits.MaxWork). Before any is
// applied, their cost over the resource as read is checked against what is left: a PATCH known to cost
// more is refused for the price of parsing it rather than after spending the whole budget (a hostile
// tenant repeating it would otherwise spend a budget of CPU per request).
func Apply(env Env, doc map[string]any, ops []Operation) error {
	estimate := 0
	for _, op := range ops {
		if op.path != nil && op.path.Path.Attr != nil {
			estimate += opCost(document.Container(doc, op.path.Path, false), *op.path, op.value)
		}
	}
	if err := env.Work.Afford(estimate); err != nil {
		return err
	}
	for _, op := range ops {
		if err := applyOp(env, doc, op); err != nil {
			return err
		}
	}
	return nil
}

func applyOp(env Env, doc map[string]any, op Operation) error {
	if err := env.Ctx.Err(); err != nil {
		return err
	}
	rt, ignored := env.RT, env.Ignored
	if op.path != nil && op.path.Path.Attr != nil {
		return applyAt(env, doc, *op.path, op.op, op.value)
	}
	if op.op == "remove" { // a whole extension (path-less removes are refused by parsePatch): all its attributes
		delete(doc, op.path.Path.Schema.ID)
		return nil
	}
	// A value object: each key is itself a path (Entra writes "name.formatted" and full URNs). Keys that name
	// no writable attribute are ignored, as unknown attributes are in POST.
	prefix := ""
	if op.path != nil {
		prefix = op.path.Path.Schema.ID + ":"
	}
	// parsePatch checks only an Operation's own value; the value of an extension URN key inside a path-less
	// object is checked here, so a request can never make this assertion panic.
	m, ok := op.value.(map[string]any)
	if !ok {
		if op.value == nil { // {"urn:...:User": null}: nulls are ignored, as in POST
			return nil
		}
		return fail(invalidValue, echo.Clip(op.path.String())+" takes an object of attributes")
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // "name" before "name.formatted": the sub-attribute wins, in a stable order
	for _, k := range keys {
		p, err := filter.ParsePath(rt, prefix+k)
		if errors.Is(err, filter.ErrUnknownAttribute) && m[k] != nil {
			ignored(prefix + k)
		}
		if err != nil || p.Path.Attr == nil && p.Path.Schema == nil {
			continue
		}
		if t := p.Path.Target(); t != nil && t.Mutability == schema.ReadOnly {
			continue
		}
		if err := applyOp(env, doc, Operation{op: op.op, path: &p, value: m[k]}); err != nil {
			return err
		}
	}
	return nil
}

// applyAt applies one Operation at a resolved attribute path.
func applyAt(env Env, doc map[string]any, pp filter.PatchPath, op string, value any) error {
	p, a := pp.Path, pp.Path.Attr
	c := document.Container(doc, p, true)
	if err := env.Work.Charge(opCost(c, pp, value)); err != nil {
		return err
	}
	defer pruneEmpty(doc, p)
	if a.Mutability == schema.Immutable && c[a.Name] != nil {
		return fail(mutability, p.String()+" is immutable")
	}
	if op == "remove" {
		return removeAt(env, c, pp, value)
	}
	if a.MultiValued && setsPrimary(pp, value) {
		// RFC 7643 §2.4: a new primary value demotes the others.
		for _, e := range elements(c, a) {
			delete(e, "primary")
		}
	}
	switch {
	case pp.Filter != nil:
		return setFiltered(env, c, pp, value)
	case p.Sub != nil:
		sv, err := normalize.Coerce(p.Sub, value)
		if err != nil {
			return err
		}
		targets := elements(c, a)
		switch {
		case !a.MultiValued:
			targets = []map[string]any{object(c, a)}
		case len(targets) == 0:
			// A sub-attribute of a multi-valued attribute that has no value yet (add emails.value to a
			// user without emails) goes into one new element: the attribute stays an array, never an
			// object, which no User can decode (it answered 500).
			e := map[string]any{}
			c[a.Name] = []any{e}
			targets = []map[string]any{e}
		}
		for _, e := range targets {
			setOrDelete(e, p.Sub.Name, sv)
		}
		return nil
	}
	v, err := normalize.Coerce(a, value)
	if err != nil {
		return err
	}
	switch {
	case v == nil: // add or replace with null, "" or []: the attribute becomes unassigned
		// ...except a complex value of no sub-attributes, which sets none and leaves the rest unchanged
		// (RFC 7644 §3.5.2.3).
		if m, isObj := value.(map[string]any); op == "replace" && !(isObj && len(m) == 0 && !a.MultiValued) {
			delete(c, a.Name)
		}
	case a.MultiValued && op == "add":
		list, _ := c[a.Name].([]any)
		added := v.([]any)
		if err := env.checkValues(p, len(added)); err != nil { // before any work on them
			return err
		}
		// A value already there, "primary" aside, is not added again: re-adding the primary email must not
		// duplicate it because the demotion above has just cleared its flag. It is made primary again
		// instead. Values are found by canonical key: linear, where comparing pairs was quadratic.
		at := make(map[string]int, len(list)+len(added))
		for i, old := range list {
			if _, dup := at[valueKey(old)]; !dup {
				at[valueKey(old)] = i
			}
		}
		for _, nv := range added {
			k := valueKey(nv)
			i, found := at[k]
			if !found {
				at[k] = len(list)
				list = append(list, nv)
				continue
			}
			if nm, ok := nv.(map[string]any); ok && nm["primary"] == true {
				if om, ok := list[i].(map[string]any); ok { // equal keys: both are objects
					om["primary"] = true
				}
			}
		}
		if err := env.checkValues(p, len(list)); err != nil {
			return err
		}
		c[a.Name] = list
	case a.Type == schema.Complex && !a.MultiValued: // sub-attributes not given are left as they are
		obj := object(c, a)
		for k, sv := range v.(map[string]any) {
			obj[k] = sv
		}
	default:
		c[a.Name] = v
	}
	return nil
}

// opCost is what an Operation at pp costs in units of the work budget: one, and each value the attribute has
// (visited to select, change, deduplicate or prune) times the comparisons of the value filter, plus the values
// an add brings.
func opCost(c map[string]any, pp filter.PatchPath, value any) int {
	if !pp.Path.Attr.MultiValued {
		return 1
	}
	list, _ := c[pp.Path.Attr.Name].([]any)
	terms := 1
	if pp.Filter != nil {
		terms = max(1, filter.CostOf(pp.Filter).Terms)
	}
	added, _ := value.([]any)
	return 1 + len(list)*terms + len(added)
}

// setFiltered sets the value (of the sub-attribute, when the path names one) of every element the path's
// filter selects. When none is selected it creates the element the filter describes, if the filter is an
// equality such as type eq "work" that can describe one; otherwise it is RFC 7644's noTarget.
func setFiltered(env Env, c map[string]any, pp filter.PatchPath, value any) error {
	a := pp.Path.Attr
	var targets []map[string]any
	for _, e := range elements(c, a) {
		if filter.Match(pp.Filter, e) {
			targets = append(targets, e)
		}
	}
	if len(targets) == 0 {
		e, ok := describe(pp.Filter)
		if !ok {
			return fail(noTarget, "no value matches "+echo.Clip(pp.String()))
		}
		list, _ := c[a.Name].([]any)
		if err := env.checkValues(pp.Path, len(list)+1); err != nil {
			return err
		}
		c[a.Name] = append(list, e)
		targets = []map[string]any{e}
	}
	target, val := pp.Path.Sub, value
	if target == nil { // the element itself: its sub-attributes are merged
		one := *a
		one.MultiValued = false
		target = &one
	}
	v, err := normalize.Coerce(target, val)
	if err != nil {
		return err
	}
	for _, e := range targets {
		if pp.Path.Sub != nil {
			setOrDelete(e, pp.Path.Sub.Name, v)
			continue
		}
		if m, ok := v.(map[string]any); ok {
			for k, sv := range m {
				e[k] = sv
			}
		}
	}
	return nil
}

// describe returns the element a value filter made only of "eq" comparisons (joined by "and") describes, so
// that Entra's replace of emails[type eq "work"].value creates the work email. A comparison with a value
// outside the sub-attribute's canonical values describes nothing: emails[type eq "nonexistent"] stays
// noTarget, as RFC 7644 §3.5.2.3 says.
func describe(e filter.Expr) (map[string]any, bool) {
	switch e := e.(type) {
	case *filter.Compare:
		a := e.Path.Attr
		if e.Op != filter.Eq || e.Value == nil {
			return nil, false
		}
		if s, ok := e.Value.(string); ok && len(a.CanonicalValues) > 0 &&
			!slices.ContainsFunc(a.CanonicalValues, func(cv string) bool { return strings.EqualFold(cv, s) }) {
			return nil, false
		}
		return map[string]any{a.Name: e.Value}, true
	case *filter.Logical:
		if e.Op != filter.And {
			return nil, false
		}
		l, ok1 := describe(e.Left)
		r, ok2 := describe(e.Right)
		if !ok1 || !ok2 {
			return nil, false
		}
		for k, v := range r {
			if old, dup := l[k]; dup && old != v {
				return nil, false
			}
			l[k] = v
		}
		return l, true
	}
	return nil, false
}

// removeAt removes the attribute, sub-attribute or filtered elements pp names. A value given with a remove
// on a multi-valued attribute lists the elements to remove (Entra's members removal); only those go.
func removeAt(env Env, c map[string]any, pp filter.PatchPath, value any) error {
	a, sub := pp.Path.Attr, pp.Path.Sub
	switch {
	case pp.Filter != nil:
		list := elements(c, a)
		var keep []any
		for _, e := range list {
			switch {
			case !filter.Match(pp.Filter, e):
				keep = append(keep, e)
			case sub != nil:
				delete(e, sub.Name)
				keep = append(keep, e)
			}
		}
		setList(c, a, keep)
	case sub != nil:
		if a.MultiValued {
			for _, e := range elements(c, a) {
				delete(e, sub.Name)
			}
		} else if m, ok := c[a.Name].(map[string]any); ok {
			delete(m, sub.Name)
		}
	case a.MultiValued && value != nil:
		v, err := normalize.Coerce(a, value)
		if err != nil {
			return err
		}
		listed, _ := v.([]any)
		if err := env.checkValues(pp.Path, len(listed)); err != nil {
			return err
		}
		gone := newValueSet(listed)
		var keep []any
		for _, e := range elements(c, a) {
			if !gone.containsPart(e) {
				keep = append(keep, e)
			}
		}
		setList(c, a, keep)
	default:
		delete(c, a.Name)
	}
	return nil
}

// valueKey returns the canonical key of a value of a multi-valued attribute, "primary" aside: equal keys are
// equal values (document.AppendKey).
func valueKey(v any) string {
	if m, ok := v.(map[string]any); ok {
		if _, has := m["primary"]; has {
			stripped := make(map[string]any, len(m))
			for k, sv := range m {
				if k != "primary" {
					stripped[k] = sv
				}
			}
			v = stripped
		}
	}
	return string(document.AppendKey(nil, v))
}

// valueSet answers whether an element has every sub-attribute value of one of the listed values (a remove
// with a value lists the elements to remove by some of their sub-attributes, Entra's members removal). The
// listed values are grouped by which sub-attributes they give (few: they are the attribute's), so each
// element is looked up once per group: linear, where comparing every pair was quadratic.
type valueSet struct {
	groups map[string]*valueGroup // by the sorted names of the sub-attributes given
}

type valueGroup struct {
	names []string
	keys  map[string]bool // JSON of the listed values restricted to names
}

func newValueSet(listed []any) valueSet {
	s := valueSet{groups: map[string]*valueGroup{}}
	for _, l := range listed {
		lm, ok := l.(map[string]any)
		if !ok || len(lm) == 0 { // matches no element, as before
			continue
		}
		names := slices.Sorted(maps.Keys(lm))
		id := strings.Join(names, "\x00")
		g := s.groups[id]
		if g == nil {
			g = &valueGroup{names: names, keys: map[string]bool{}}
			s.groups[id] = g
		}
		g.keys[valueKey(projectValue(lm, names))] = true
	}
	return s
}

// containsPart reports whether e has every sub-attribute value of some listed value.
func (s valueSet) containsPart(e map[string]any) bool {
	for _, g := range s.groups {
		part := projectValue(e, g.names)
		if len(part) == len(g.names) && g.keys[valueKey(part)] {
			return true
		}
	}
	return false
}

// projectValue returns the sub-attributes of m among names ("primary" kept: valueKey sees it as a value
// here, since it is compared like the others).
func projectValue(m map[string]any, names []string) map[string]any {
	out := make(map[string]any, len(names))
	for _, n := range names {
		if v, ok := m[n]; ok {
			out["k"+n] = v // prefixed: valueKey strips a key named "primary", which must count here
		}
	}
	return out
}

// checkValues refuses n values for the multi-valued attribute at p when the limit is lower.
func (env Env) checkValues(p schema.Path, n int) error {
	if env.MaxValues > 0 && n > env.MaxValues {
		return fail(invalidValue, fmt.Sprintf("%s would have more than %d values", schema.Path{Schema: p.Schema, Attr: p.Attr}, env.MaxValues))
	}
	return nil
}

// setsPrimary reports whether an add or replace makes some value of a multi-valued attribute primary.
func setsPrimary(pp filter.PatchPath, value any) bool {
	if pp.Path.Sub != nil {
		return pp.Path.Sub.Name == "primary" && truthy(value)
	}
	list, ok := value.([]any)
	if !ok {
		list = []any{value}
	}
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			for k, v := range m {
				if strings.EqualFold(k, "primary") && truthy(v) {
					return true
				}
			}
		}
	}
	return false
}

func truthy(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return strings.EqualFold(v, "true")
	}
	return false
}

// elements returns the elements of a multi-valued complex attribute in c.
func elements(c map[string]any, a *schema.Attribute) []map[string]any {
	list, _ := c[a.Name].([]any)
	out := make([]map[string]any, 0, len(list))
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func setList(c map[string]any, a *schema.Attribute, list []any) {
	if len(list) == 0 {
		delete(c, a.Name)
		return
	}
	c[a.Name] = list
}

// object returns the object of a single complex attribute in c, creating it.
func object(c map[string]any, a *schema.Attribute) map[string]any {
	m, ok := c[a.Name].(map[string]any)
	if !ok {
		m = map[string]any{}
		c[a.Name] = m
	}
	return m
}

func setOrDelete(m map[string]any, k string, v any) {
	if v == nil {
		delete(m, k)
		return
	}
	m[k] = v
}

// pruneEmpty removes what an Operation left empty: elements without sub-attributes, empty arrays and
// objects, an empty extension object. Unassigned and empty are the same state (RFC 7643 §2.5).
func pruneEmpty(doc map[string]any, p schema.Path) {
	c := document.Container(doc, p, false)
	if c == nil {
		return
	}
	switch v := c[p.Attr.Name].(type) {
	case []any:
		keep := slices.DeleteFunc(v, func(e any) bool { m, ok := e.(map[string]any); return ok && len(m) == 0 })
		if len(keep) == 0 {
			delete(c, p.Attr.Name)
		} else {
			c[p.Attr.Name] = keep
		}
	case map[string]any:
		if len(v) == 0 {
			delete(c, p.Attr.Name)
		}
	}
	if p.Extension() && len(c) == 0 {
		delete(doc, p.Schema.ID)
	}
}
