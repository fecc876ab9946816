// Package filter parses SCIM filters and PATCH paths (RFC 7644 §3.4.2.2, §3.5.2), resolves their attribute
// names against a schema.ResourceType and evaluates them against the canonical JSON form of a resource.
//
// Parsing is done by github.com/scim2/filter-parser/v2. This package pre-processes the input so that callers
// never meet that parser's gaps: string literals are decoded here as JSON strings (escapes, \u in any case),
// value filters inside brackets are parsed on their own (so they may have three or more terms and
// parentheses), surrounding whitespace is trimmed and numbers are read without wrapping.
package filter

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	parser "github.com/scim2/filter-parser/v2"

	"github.com/scimkit/scim/internal/echo"
	"github.com/scimkit/scim/schema"
)

// Sentinel errors, wrapped by every error this package returns (RFC 7644 §3.12 scimType).
var (
	// ErrInvalidFilter marks a filter that is malformed or that names an unknown attribute (invalidFilter).
	ErrInvalidFilter = errors.New("invalid filter")
	// ErrInvalidPath marks a PATCH path that is malformed or names an unknown attribute (invalidPath).
	ErrInvalidPath = errors.New("invalid path")
	// ErrUnknownAttribute is wrapped, beside ErrInvalidPath, when a well-formed PATCH path names an attribute
	// or sub-attribute the resource type does not have: the handler ignores such an operation, as it ignores
	// attributes outside the declared schema in POST.
	ErrUnknownAttribute = errors.New("unknown attribute")
)

// Limits bound the work a single filter can ask for.
type Limits struct {
	// MaxLength is the longest filter accepted, in bytes. Zero or less means DefaultLimits.MaxLength.
	MaxLength int
	// MaxDepth is the deepest nesting of and/or/not/value filters and parentheses accepted. A run of one
	// operator (a or b or c ...) is one level however long it is. Zero or less means DefaultLimits.MaxDepth.
	MaxDepth int
	// MaxTerms is the most comparisons a filter may hold, those inside value filters included: each is
	// evaluated on every candidate resource. Zero or less means DefaultLimits.MaxTerms.
	MaxTerms int
	// MaxMultiValued is the most comparisons on multi-valued attributes (emails co "x") and value filters
	// (emails[type eq "work"]) a filter may hold: each iterates the attribute's values of every candidate,
	// a subquery over a JSON array in SQL. Zero or less means DefaultLimits.MaxMultiValued.
	MaxMultiValued int
}

// DefaultLimits are generous for every real client: Entra's filters are under 300 bytes, two levels deep
// and of one or two comparisons.
var DefaultLimits = Limits{MaxLength: 4096, MaxDepth: 32, MaxTerms: 100, MaxMultiValued: 10}

// Parse parses filter and resolves its attribute names against rt, with DefaultLimits.
func Parse(rt *schema.ResourceType, filter string) (Expr, error) {
	return DefaultLimits.Parse(rt, filter)
}

// Parse parses filter and resolves its attribute names against rt. Every error wraps ErrInvalidFilter.
func (l Limits) Parse(rt *schema.ResourceType, filter string) (Expr, error) {
	l = l.orDefault()
	if len(filter) > l.MaxLength {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrInvalidFilter, l.MaxLength)
	}
	e, simple := parseSimple(rt, filter)
	if !simple {
		var err error
		if e, err = l.parseGeneral(rt, filter); err != nil {
			return nil, err
		}
	}
	if c := CostOf(e); c.MultiValued > l.MaxMultiValued {
		return nil, fmt.Errorf("%w: more than %d comparisons on multi-valued attributes", ErrInvalidFilter, l.MaxMultiValued)
	} else if c.Terms > l.MaxTerms {
		return nil, fmt.Errorf("%w: more than %d comparisons", ErrInvalidFilter, l.MaxTerms)
	}
	return e, nil
}

// Cost is what evaluating a filter costs per candidate resource, in the units Limits bound.
type Cost struct {
	// Terms counts comparisons, those inside value filters included.
	Terms int
	// MultiValued counts comparisons on multi-valued attributes and value filters: iterations over values.
	MultiValued int
}

// CostOf returns the cost of e.
func CostOf(e Expr) Cost {
	var c Cost
	var walk func(e Expr, inValueFilter bool)
	walk = func(e Expr, in bool) {
		switch e := e.(type) {
		case *Logical:
			walk(e.Left, in)
			walk(e.Right, in)
		case *Not:
			walk(e.X, in)
		case *ValuePath:
			if e.Path.Attr != nil && e.Path.Attr.MultiValued {
				c.MultiValued++
			}
			walk(e.Filter, true)
		case *Compare:
			c.Terms++
			if !in && e.Path.Attr != nil && e.Path.Attr.MultiValued {
				c.MultiValued++
			}
		}
	}
	walk(e, false)
	return c
}

// parseGeneral parses any filter with the general parser.
func (l Limits) parseGeneral(rt *schema.ResourceType, filter string) (Expr, error) {
	pre, err := preprocess(filter, l.MaxDepth)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidFilter, err)
	}
	r := resolver{rt: rt, pre: pre, maxDepth: l.MaxDepth}
	e, err := r.parseFilter(pre.text, 0)
	if err != nil { // ErrUnknownAttribute stays visible: a search across resource types skips a type on it
		return nil, fmt.Errorf("%w: %w", ErrInvalidFilter, err)
	}
	return e, nil
}

// orDefault replaces unset limits by the defaults, so that Limits{MaxDepth: 8} does not reject every filter
// as longer than 0 bytes.
func (l Limits) orDefault() Limits {
	if l.MaxLength <= 0 {
		l.MaxLength = DefaultLimits.MaxLength
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultLimits.MaxDepth
	}
	if l.MaxTerms <= 0 {
		l.MaxTerms = DefaultLimits.MaxTerms
	}
	if l.MaxMultiValued <= 0 {
		l.MaxMultiValued = DefaultLimits.MaxMultiValued
	}
	return l
}

// PatchPath is a resolved PATCH path: an attribute (Path.Attr nil for a whole extension), an optional value
// filter selecting elements of a multi-valued attribute, and an optional sub-attribute (Path.Sub).
type PatchPath struct {
	Path   schema.Path
	Filter Expr
}

// String returns the canonical text of the path.
func (p PatchPath) String() string {
	if p.Filter == nil {
		return p.Path.String()
	}
	s := schema.Path{Schema: p.Path.Schema, Attr: p.Path.Attr}.String() + "[" + String(p.Filter) + "]"
	if p.Path.Sub != nil {
		s += "." + p.Path.Sub.Name
	}
	return s
}

// ParsePath parses a PATCH operation's path (RFC 7644 §3.5.2 PATH). Every error wraps ErrInvalidPath.
func ParsePath(rt *schema.ResourceType, path string) (PatchPath, error) {
	fail := func(err error) (PatchPath, error) { return PatchPath{}, fmt.Errorf("%w: %w", ErrInvalidPath, err) }
	if len(path) > DefaultLimits.MaxLength {
		return fail(fmt.Errorf("longer than %d bytes", DefaultLimits.MaxLength))
	}
	if p, ok := parseSimplePath(rt, path); ok {
		return p, nil
	}
	return parseGeneralPath(rt, path)
}

// parseGeneralPath parses any PATCH path with the general parser.
func parseGeneralPath(rt *schema.ResourceType, path string) (PatchPath, error) {
	fail := func(err error) (PatchPath, error) { return PatchPath{}, fmt.Errorf("%w: %w", ErrInvalidPath, err) }
	pre, err := preprocess(path, DefaultLimits.MaxDepth)
	if err != nil {
		return fail(err)
	}
	// Plain attribute paths (including "urn:...:User", a whole extension) are resolved directly: the parser
	// would split a bare URN at its last colon.
	if !strings.Contains(pre.text, "[") {
		p, ok := rt.Resolve(pre.text)
		if !ok {
			return fail(fmt.Errorf("%w %s", ErrUnknownAttribute, echo.Quote(path)))
		}
		return PatchPath{Path: p}, nil
	}
	ast, err := parser.ParsePathNumber([]byte(pre.text))
	if err != nil {
		return fail(errors.New("malformed path"))
	}
	r := resolver{rt: rt, pre: pre, maxDepth: DefaultLimits.MaxDepth}
	p, err := r.resolve(ast.AttributePath, nil)
	if err != nil {
		return PatchPath{}, fmt.Errorf("%w: %w", ErrInvalidPath, err)
	}
	out := PatchPath{Path: p}
	if ast.ValueExpression != nil {
		if !p.Attr.MultiValued || p.Attr.Type != schema.Complex || p.Sub != nil {
			return fail(fmt.Errorf("%s takes no value filter", p))
		}
		if out.Filter, err = r.valueFilter(ast.ValueExpression, p.Attr, 1); err != nil {
			return fail(err)
		}
	}
	if ast.SubAttribute != nil {
		if out.Path.Sub = p.Attr.Sub(*ast.SubAttribute); out.Path.Sub == nil {
			return PatchPath{}, fmt.Errorf("%w: %w: sub-attribute %s of %s", ErrInvalidPath, ErrUnknownAttribute, echo.Quote(*ast.SubAttribute), p)
		}
	}
	return out, nil
}

// preprocessed is a filter whose string literals and bracketed value filters were replaced by placeholders
// the underlying parser handles: strings by "N" (N indexing strs), value filters by "scimkitvfN pr"
// (N indexing vfs, the raw text between the brackets).
type preprocessed struct {
	text string
	strs []string
	vfs  []string
}

const vfPrefix = "scimkitvf"

// preprocess also bounds the nesting of parentheses by maxDepth before the underlying parser (recursive, and
// slow on deep nesting) sees the text.
func preprocess(in string, maxDepth int) (*preprocessed, error) {
	p := &preprocessed{}
	var b strings.Builder
	depth, start := 0, 0 // bracket depth, start of the current value filter in b
	parens := 0
	for i := 0; i < len(in); i++ {
		c := in[i]
		switch {
		case c == '(':
			if parens++; parens > maxDepth {
				return nil, fmt.Errorf("nested deeper than %d", maxDepth)
			}
			b.WriteByte(c)
		case c == ')':
			if parens--; parens < 0 {
				return nil, errors.New("unbalanced ')'")
			}
			b.WriteByte(c)
		case c == '"':
			end, s, err := scanString(in, i)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(&b, `"%d"`, len(p.strs))
			p.strs = append(p.strs, s)
			i = end
		case c == '[':
			if depth > 0 {
				return nil, errors.New("nested value filters")
			}
			depth++
			b.WriteByte('[')
			start = b.Len()
		case c == ']':
			if depth == 0 {
				return nil, errors.New("unbalanced ']'")
			}
			depth--
			inner := strings.TrimSpace(b.String()[start:])
			rest := b.String()[:start]
			b.Reset()
			b.WriteString(rest)
			if extra, end, ok := p.trailingCompare(in, i+1); ok {
				// Entra's validator writes emails[type eq "work"].value eq "x": not RFC grammar, but it has one
				// meaning, emails[type eq "work" and value eq "x"].
				inner = "(" + inner + ") and " + extra
				i = end - 1
			}
			fmt.Fprintf(&b, "%s%d pr]", vfPrefix, len(p.vfs))
			p.vfs = append(p.vfs, inner)
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			// Collapse whitespace runs to one space; the grammar allows exactly one between tokens.
			if b.Len() > 0 && b.String()[b.Len()-1] != ' ' {
				b.WriteByte(' ')
			}
		default:
			b.WriteByte(c)
		}
	}
	if depth != 0 {
		return nil, errors.New("unbalanced '['")
	}
	p.text = tidyParens(strings.TrimSpace(b.String()))
	return p, nil
}

// trailingCompare reads a comparison of a sub-attribute written after a value filter's closing bracket,
// ".value eq "x"" starting at in[i], and returns it in pre-processed form (its string literal replaced by a
// placeholder) with the index just past it. It reports false when in[i:] is not such a comparison (a PATCH
// path's plain ".value", say), consuming nothing.
func (p *preprocessed) trailingCompare(in string, i int) (string, int, bool) {
	if i >= len(in) || in[i] != '.' {
		return "", 0, false
	}
	j := i + 1
	for j < len(in) && (isLetter(in[j]) || in[j] >= '0' && in[j] <= '9' || in[j] == '_' || in[j] == '-' || in[j] == '$') {
		j++
	}
	sub := in[i+1 : j]
	if sub == "" || j >= len(in) || in[j] != ' ' {
		return "", 0, false
	}
	k := j + 1
	for k < len(in) && isLetter(in[k]) {
		k++
	}
	op := strings.ToLower(in[j+1 : k])
	switch op {
	case "pr":
		return sub + " pr", k, true
	case "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le":
	default:
		return "", 0, false
	}
	if k >= len(in) || in[k] != ' ' || k+1 >= len(in) {
		return "", 0, false
	}
	k++
	if in[k] == '"' {
		end, str, err := scanString(in, k)
		if err != nil {
			return "", 0, false
		}
		lit := fmt.Sprintf(`"%d"`, len(p.strs))
		p.strs = append(p.strs, str)
		return sub + " " + op + " " + lit, end + 1, true
	}
	end := k
	for end < len(in) && in[end] != ' ' && in[end] != ')' && in[end] != '"' && in[end] != '[' {
		end++
	}
	if end == k {
		return "", 0, false
	}
	return sub + " " + op + " " + in[k:end], end, true
}

// tidyParens removes spaces just inside parentheses and around brackets, which the grammar does not allow
// but people write.
func tidyParens(s string) string {
	r := strings.NewReplacer("( ", "(", " )", ")", " [", "[", "[ ", "[", " ]", "]")
	for {
		t := r.Replace(s)
		if t == s {
			return t
		}
		s = t
	}
}

// scanString scans the JSON string literal starting at in[i] and returns the index of its closing quote and
// its decoded value.
func scanString(in string, i int) (int, string, error) {
	plain := true // no escape and no control character: the literal is its own text
	for j := i + 1; j < len(in); j++ {
		switch c := in[j]; {
		case c == '\\':
			plain = false
			j++
		case c < 0x20:
			plain = false
		case c == '"':
			if plain && utf8.ValidString(in[i+1:j]) { // what json.Unmarshal would return, without its two allocations
				return j, in[i+1 : j], nil
			}
			var s string
			if err := json.Unmarshal([]byte(in[i:j+1]), &s); err != nil {
				return 0, "", errors.New("a string literal is not a valid JSON string") // its text may be personal data: not echoed
			}
			return j, s, nil
		}
	}
	return 0, "", errors.New("unterminated string")
}

type resolver struct {
	rt       *schema.ResourceType
	pre      *preprocessed
	maxDepth int
}

func (r *resolver) parseFilter(text string, depth int) (Expr, error) {
	if text == "" {
		return nil, errors.New("empty filter")
	}
	ast, err := parser.ParseFilterNumber([]byte(text))
	if err != nil {
		return nil, errors.New("malformed filter")
	}
	return r.convert(ast, nil, depth)
}

// convert turns the parser's AST into ours, resolving attribute paths against the resource type, or, inside a
// value filter, against the sub-attributes of parent.
func (r *resolver) convert(e parser.Expression, parent *schema.Attribute, depth int) (Expr, error) {
	if depth > r.maxDepth {
		return nil, fmt.Errorf("nested deeper than %d", r.maxDepth)
	}
	switch e := e.(type) {
	case *parser.LogicalExpression:
		// The parser nests a run of one operator to the left: a or b or c is ((a or b) or c). The run is one
		// level of nesting, so a long list of alternatives (id eq "1" or id eq "2" or ...) is not "deep".
		ld := depth + 1
		if l, ok := e.Left.(*parser.LogicalExpression); ok && l.Operator == e.Operator {
			ld = depth
		}
		l, err := r.convert(e.Left, parent, ld)
		if err != nil {
			return nil, err
		}
		rt, err := r.convert(e.Right, parent, depth+1)
		if err != nil {
			return nil, err
		}
		op := And
		if e.Operator == parser.OR {
			op = Or
		}
		return &Logical{Op: op, Left: l, Right: rt}, nil
	case *parser.NotExpression:
		x, err := r.convert(e.Expression, parent, depth+1)
		if err != nil {
			return nil, err
		}
		return &Not{X: x}, nil
	case *parser.ValuePath:
		if parent != nil {
			return nil, errors.New("nested value filters")
		}
		p, err := r.resolve(e.AttributePath, nil)
		if err != nil {
			return nil, err
		}
		if !p.Attr.MultiValued && p.Attr.Type != schema.Complex || p.Sub != nil {
			return nil, fmt.Errorf("%s takes no value filter", p)
		}
		f, err := r.valueFilter(e.ValueFilter, p.Attr, depth+1)
		if err != nil {
			return nil, err
		}
		return &ValuePath{Path: p, Filter: f}, nil
	case *parser.AttributeExpression:
		return r.compare(e, parent)
	}
	return nil, errors.New("malformed filter")
}

// valueFilter parses the text a placeholder stands for, relative to the sub-attributes of attr.
func (r *resolver) valueFilter(e parser.Expression, attr *schema.Attribute, depth int) (Expr, error) {
	ae, ok := e.(*parser.AttributeExpression)
	if !ok || !strings.HasPrefix(ae.AttributePath.AttributeName, vfPrefix) {
		return nil, errors.New("malformed value filter")
	}
	n, err := strconv.Atoi(strings.TrimPrefix(ae.AttributePath.AttributeName, vfPrefix))
	if err != nil || n >= len(r.pre.vfs) {
		return nil, errors.New("malformed value filter")
	}
	text := r.pre.vfs[n]
	if text == "" {
		return nil, errors.New("empty value filter")
	}
	ast, err := parser.ParseFilterNumber([]byte(text))
	if err != nil {
		return nil, errors.New("malformed value filter")
	}
	return r.convert(ast, attr, depth)
}

// resolve resolves an attribute path; inside a value filter (parent set) it names a sub-attribute of parent.
func (r *resolver) resolve(ap parser.AttributePath, parent *schema.Attribute) (schema.Path, error) {
	if strings.HasPrefix(ap.AttributeName, vfPrefix) {
		return schema.Path{}, errors.New("malformed value filter")
	}
	if parent != nil {
		if ap.URIPrefix != nil || ap.SubAttribute != nil {
			return schema.Path{}, fmt.Errorf("%s is not a sub-attribute of %s", echo.Clip(ap.String()), parent.Name)
		}
		sub := parent.Sub(ap.AttributeName)
		if sub == nil {
			return schema.Path{}, fmt.Errorf("unknown sub-attribute %s of %s", echo.Quote(ap.AttributeName), parent.Name)
		}
		return schema.Path{Attr: sub}, nil
	}
	p, ok := r.rt.Resolve(ap.String())
	if !ok || p.Attr == nil {
		return schema.Path{}, fmt.Errorf("%w %s", ErrUnknownAttribute, echo.Quote(ap.String()))
	}
	return p, nil
}

func (r *resolver) compare(e *parser.AttributeExpression, parent *schema.Attribute) (Expr, error) {
	p, err := r.resolve(e.AttributePath, parent)
	if err != nil {
		return nil, err
	}
	v, err := r.literal(e.CompareValue)
	if err != nil {
		return nil, err
	}
	return newCompare(p, Op(strings.ToLower(string(e.Operator))), v)
}

// newCompare builds and checks the comparison p op v.
func newCompare(p schema.Path, op Op, v any) (*Compare, error) {
	// A complex attribute compared without a sub-attribute means its "value" (RFC 7644 §3.4.2.2: emails co ...).
	if p.Sub == nil && p.Attr.Type == schema.Complex && op != Pr {
		if p.Sub = p.Attr.Sub("value"); p.Sub == nil {
			return nil, fmt.Errorf("%s is complex: name one of its sub-attributes", p)
		}
	}
	c := &Compare{Path: p, Op: op, Value: v}
	if err := c.check(); err != nil {
		return nil, err
	}
	return c, nil
}

// literal maps the parser's compare value to ours: string placeholders back to their decoded text, numbers
// (json.Number) to int64 or float64.
func (r *resolver) literal(v any) (any, error) {
	switch v := v.(type) {
	case string:
		n, err := strconv.Atoi(v)
		if err != nil || n >= len(r.pre.strs) {
			return nil, errors.New("malformed string")
		}
		return r.pre.strs[n], nil
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i, nil
		}
		f, err := v.Float64()
		if err != nil {
			return nil, fmt.Errorf("number %s out of range", echo.Clip(string(v)))
		}
		return f, nil
	}
	return v, nil // bool or nil
}
