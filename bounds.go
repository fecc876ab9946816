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

// workBudget is what a request may still spend of Limits.MaxWork, charged as the work is done: one per request,
// across the retries of a PATCH that lost a race (each retry does the work again).
type workBudget struct {
	left  int
	limit int // 0: no bound
}

// Charge spends n units, or answers 400 tooMany once the request has spent more than its limit.
func (b *workBudget) Charge(n int) error {
	if b == nil || b.limit <= 0 {
		return nil
	}
	if b.left -= n; b.left < 0 {
		return b.exceeded()
	}
	return nil
}

// Afford answers 400 tooMany when n units are more than the request has left, spending nothing: work known
// to be too much is refused before any of it is done.
func (b *workBudget) Afford(n int) error {
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
func (h *handler) checkValues(rt *schema.ResourceType, doc map[string]any) error {
	for _, p := range rt.Attributes() {
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
	return renderBounded(ctx, h.maxPageBytes, users, func(u *User) ([]byte, error) { return h.encodeUser(r, u, proj) })
}

// renderBounded encodes items while their total stays within maxBytes (the first always), checking ctx
// every 16 items; short reports that items were left out.
func renderBounded[T any](ctx context.Context, maxBytes int, items []T, encode func(T) ([]byte, error)) (out []any, short bool, err error) {
	out = make([]any, 0, len(items))
	size := 0
	for i, it := range items {
		if i%16 == 15 {
			if err := ctx.Err(); err != nil {
				return nil, false, err
			}
		}
		b, err := encode(it)
		if err != nil {
			return nil, false, err
		}
		if size += len(b) + 1; size > maxBytes && len(out) > 0 {
			return out, true, nil
		}
		out = append(out, json.RawMessage(b))
	}
	return out, false, nil
}
