package scim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/scimkit/scim/internal/document"
	"github.com/scimkit/scim/internal/project"
	"github.com/scimkit/scim/schema"
)

// The cost model: every request's work is bounded by its input, and its input by these limits, each an
// option. What grows with a tenant (filters and sorts the Store cannot answer from an index) is bounded by
// the users it may examine; what grows with a body (PATCH, projection lists) by the values and names it may
// carry; what a response carries by its size.

// Defaults of the limits below.
const (
	defaultMaxValues         = 1000
	defaultMaxAttributeNames = 100
	defaultMaxScan           = 10000
	defaultMaxPageBytes      = 8 << 20
	defaultMaxWork           = 1_000_000
)

// WithMaxValues sets how many values one multi-valued attribute of a user may hold (emails, roles, …);
// default (0) 1000. A POST, PUT or PATCH that would exceed it gets 400 invalidValue naming the attribute. A
// negative n is a configuration error.
func WithMaxValues(n int) Option {
	return func(c *config) { positive(c, "WithMaxValues", n, &c.maxValues) }
}

// WithMaxResourceBytes sets the largest user, as encoded JSON, that a POST, PUT or PATCH may leave behind;
// larger ones get 413. The default is the request body limit (WithMaxBodyBytes) and 1 KiB for what the server
// adds (id, meta): a PATCH cannot grow a user past what a PUT could send. Zero keeps the default; a negative
// n is a configuration error.
func WithMaxResourceBytes(n int) Option {
	return func(c *config) { positive(c, "WithMaxResourceBytes", n, &c.maxResourceBytes) }
}

// WithMaxAttributeNames sets how many names the attributes and excludedAttributes parameters may list
// together (default, or 0: 100; a schema has fewer attributes than that); more get 400 invalidValue. A
// negative n is a configuration error.
func WithMaxAttributeNames(n int) Option {
	return func(c *config) { positive(c, "WithMaxAttributeNames", n, &c.maxAttrNames) }
}

// WithMaxScan sets how many users a Store may examine one by one to answer a list (Query.MaxScan): a
// filter or sortBy its indexes or SQL cannot answer is evaluated user by user, and past this many the
// request gets 400 tooMany instead of working through the whole tenant. The default (0) is 10000; NoLimit
// (any negative n) lets a list examine the whole tenant, for hosts whose tenants are small.
func WithMaxScan(n int) Option {
	return func(c *config) {
		switch {
		case n < 0:
			c.maxScan = 0 // Query.MaxScan 0: no bound
		case n > 0:
			c.maxScan = n
		}
	}
}

// WithMaxPageBytes sets the largest list response, encoded (default 8 MiB): a page whose users would
// encode larger carries fewer of them, itemsPerPage saying how many (RFC 7644 §3.4.2.4 allows fewer than
// count). The Store sees it as Query.MaxBytes. Zero keeps the default; a negative n is a configuration
// error.
func WithMaxPageBytes(n int) Option {
	return func(c *config) { positive(c, "WithMaxPageBytes", n, &c.maxPageBytes) }
}

// WithMaxWork sets how much work one request may do over what the Store holds, in units of one value examined
// once (by each comparison of a value filter, when one selects it): a PATCH operation on a multi-valued
// attribute costs its current values times the comparisons of its value filter, so 1000 operations of a
// 31-term filter over 1000 emails cost 31 million units; a group PATCH costs the members it reads and, for
// each member filter that is not a list of ids, the members it tests times the filter's comparisons. What grows
// with the request alone (its values, ids and paths) is bounded by the body limits instead. Past the limit the
// request stops and gets 400 tooMany naming it, with nothing written. The default (0) is 1,000,000 units, a
// few tenths of a second of one core at most; NoLimit (any negative n) removes the bound, leaving only the
// request timeout.
func WithMaxWork(n int) Option {
	return func(c *config) {
		switch {
		case n < 0:
			c.maxWork = 0 // no bound
		case n > 0:
			c.maxWork = n
		}
	}
}

// workBudget is what a request may still spend of WithMaxWork, charged as the work is done: one per request,
// across the retries of a PATCH that lost a race (each retry does the work again).
type workBudget struct {
	left  int
	limit int // 0: no bound
}

// charge spends n units, or answers 400 tooMany once the request has spent more than its limit.
func (b *workBudget) charge(n int) error {
	if b == nil || b.limit <= 0 {
		return nil
	}
	if b.left -= n; b.left < 0 {
		return b.exceeded()
	}
	return nil
}

// afford answers 400 tooMany when n units are more than the request has left, spending nothing: work known
// to be too much is refused before any of it is done.
func (b *workBudget) afford(n int) error {
	if b == nil || b.limit <= 0 || n <= b.left {
		return nil
	}
	return b.exceeded()
}

func (b *workBudget) exceeded() error {
	return errorf(http.StatusBadRequest, TooMany, fmt.Sprintf("the request needs more than %d units of work "+
		"(the limit: values examined times value-filter comparisons): split its operations over several requests "+
		"or select values with simpler filters", b.limit))
}

// tooMany is the client's answer to ErrTooMany.
func (h *handler) tooMany() *Error {
	return errorf(http.StatusBadRequest, TooMany, fmt.Sprintf("the query needs more than %d users examined one by one "+
		"(the limit): narrow the filter with a lookup an index answers (id, userName or externalId eq, groups.value eq), "+
		"leave out sortBy, or page from one page to the next rather than to a deep startIndex", h.maxScan))
}

// checkValues refuses a canonical document with a multi-valued attribute of more than maxValues values.
func (h *handler) checkValues(doc map[string]any) error {
	for _, p := range h.rt.Attributes() {
		if !p.Attr.MultiValued {
			continue
		}
		if c := document.Container(doc, p, false); c != nil {
			if list, ok := c[p.Attr.Name].([]any); ok && len(list) > h.maxValues {
				return errorf(http.StatusBadRequest, InvalidValue, fmt.Sprintf("%s has more than %d values (the limit)", p, h.maxValues))
			}
		}
	}
	return nil
}

// checkSize refuses a user whose encoding is n bytes when that is more than maxResourceBytes.
func (h *handler) checkSize(n int) error {
	if n > h.maxResourceBytes {
		return errorf(http.StatusRequestEntityTooLarge, "", fmt.Sprintf("the resource would be larger than %d bytes (the limit)", h.maxResourceBytes))
	}
	return nil
}

// parseProjection resolves the attributes and excludedAttributes lists once for the request, after
// bounding them: each name is compared with each attribute of each user rendered.
func (h *handler) parseProjection(rt *schema.ResourceType, attributes, excluded []string) (project.Projection, error) {
	if len(attributes)+len(excluded) > h.maxAttrNames {
		return project.Projection{}, errorf(http.StatusBadRequest, InvalidValue,
			fmt.Sprintf("attributes and excludedAttributes list more than %d names (the limit)", h.maxAttrNames))
	}
	return project.Parse(rt, attributes, excluded), nil
}

// renderPage encodes the users of a page, each on its own, until the next would take the page past
// maxPageBytes (one user is always sent). It checks ctx as it goes: a page is up to maxResults users.
func (h *handler) renderPage(ctx context.Context, r *request, users []*User, proj project.Projection) ([]any, bool, error) {
	out := make([]any, 0, len(users))
	size := 0
	for i, u := range users {
		if i%16 == 15 {
			if err := ctx.Err(); err != nil {
				return nil, false, err
			}
		}
		b, err := h.encodeUser(r, u, proj)
		if err != nil {
			return nil, false, err
		}
		if size += len(b) + 1; size > h.maxPageBytes && len(out) > 0 {
			return out, true, nil
		}
		out = append(out, json.RawMessage(b))
	}
	return out, false, nil
}
