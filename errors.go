package scim

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/internal/echo"
	"github.com/scimkit/scim/internal/normalize"
	"github.com/scimkit/scim/internal/patch"
	"github.com/scimkit/scim/schema"
)

// Error is a SCIM error (RFC 7644 §3.12): an HTTP status, a scimType where the RFC defines one, and a detail
// for humans. A Store may return one to choose the client's answer itself; any other error it returns is
// mapped from the sentinel errors, or answered as a 500 whose detail says nothing of the cause.
type Error struct {
	Status   int
	ScimType ScimType // "" where the RFC defines none (404, 412, 5xx, …)
	Detail   string
}

// Error formats the status, scimType and detail.
func (e *Error) Error() string {
	if e.ScimType != "" {
		return strconv.Itoa(e.Status) + " " + string(e.ScimType) + ": " + e.Detail
	}
	return strconv.Itoa(e.Status) + ": " + e.Detail
}

// ScimType is the scimType of a SCIM error (RFC 7644 §3.12): the machine-readable kind of a 400 (or 409,
// 413) that a client acts on. A type of its own, so that an *Error cannot carry a stray string by mistake.
type ScimType string

// The scimType values of RFC 7644 §3.12, Table 9, and RFC 9865's.
const (
	InvalidFilter ScimType = "invalidFilter"
	TooMany       ScimType = "tooMany"
	Uniqueness    ScimType = "uniqueness"
	Mutability    ScimType = "mutability"
	InvalidSyntax ScimType = "invalidSyntax"
	InvalidPath   ScimType = "invalidPath"
	NoTarget      ScimType = "noTarget"
	InvalidValue  ScimType = "invalidValue"
	InvalidVers   ScimType = "invalidVers"
	Sensitive     ScimType = "sensitive"
	// InvalidCursor is RFC 9865's scimType for a cursor the service provider cannot use.
	InvalidCursor ScimType = "invalidCursor"
)

// ErrUnavailable is the sentinel for failures that are temporary: the Store's database is down, restarting,
// out of connections or disk, or a transaction lost a deadlock or serialization race. A Store wraps such
// errors with it (fmt.Errorf("%w: %w", scim.ErrUnavailable, err) keeps the cause for errors.Is/As); an
// authenticator whose own lookup cannot reach its database returns it too. The handler answers 503 with a
// Retry-After header (Limits.RetryAfter), so an identity provider retries later instead of recording a failure
// (or, for an authenticator, deciding its token is wrong). Other unexpected errors stay 500, without
// Retry-After: bugs are not retried away.
var ErrUnavailable = errors.New("scim: temporarily unavailable")

func errorf(status int, scimType ScimType, detail string) *Error {
	return &Error{Status: status, ScimType: scimType, Detail: detail}
}

// toError maps any error to the SCIM error the client sees.
func toError(err error) (*Error, bool) {
	var se *Error
	var pe *patch.Error
	switch {
	case errors.As(err, &se):
		return se, true
	case errors.Is(err, ErrNotFound):
		return errorf(http.StatusNotFound, "", "resource not found"), true
	case errors.Is(err, ErrConflict):
		return errorf(http.StatusConflict, Uniqueness, "userName is already taken"), true
	case errors.Is(err, ErrVersionMismatch):
		return errorf(http.StatusPreconditionFailed, "", "the resource changed: read it again"), true
	case errors.Is(err, ErrInvalidCursor):
		return errorf(http.StatusBadRequest, InvalidCursor, "the cursor is invalid: start again with an empty cursor"), true
	case errors.Is(err, filter.ErrInvalidFilter):
		return errorf(http.StatusBadRequest, InvalidFilter, err.Error()), true
	case errors.Is(err, filter.ErrInvalidPath):
		return errorf(http.StatusBadRequest, InvalidPath, err.Error()), true
	case errors.As(err, &pe):
		return errorf(http.StatusBadRequest, ScimType(pe.Type), pe.Detail), true
	case errors.Is(err, normalize.ErrInvalidValue):
		return errorf(http.StatusBadRequest, InvalidValue, err.Error()), true
	case errors.Is(err, ErrBusy):
		return errorf(http.StatusTooManyRequests, "", "this tenant's requests hold all of its share of the database: retry later"), true
	case errors.Is(err, ErrUnavailable):
		return errorf(http.StatusServiceUnavailable, "", "the service is temporarily unavailable: retry later"), false
	case errors.Is(err, context.DeadlineExceeded):
		return errorf(http.StatusServiceUnavailable, "", "the request took too long"), false
	}
	return errorf(http.StatusInternalServerError, "", "internal server error"), false
}

// maxDetail bounds an error's detail, whatever made it (a Store's own *Error included): the values it quotes
// are clipped where they are quoted (internal/echo), and this is the backstop.
const maxDetail = 1024

type errorBody struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	ScimType ScimType `json:"scimType,omitempty"`
	Detail   string   `json:"detail,omitempty"`
}

// writeError writes every error the handler answers. Errors that are not the client's doing are logged.
func (h *handler) writeError(w http.ResponseWriter, r *request, err error) {
	if _, ok := errors.AsType[*Error](err); !ok && errors.Is(err, ErrTooMany) {
		err = h.tooMany() // any route's Store (ListGroups too) may refuse a scan; the limit is the handler's
	}
	se, known := toError(err)
	if se.Status == http.StatusInternalServerError && errors.Is(r.Context().Err(), context.DeadlineExceeded) {
		// Whatever a Store made of its cancelled work (SQLite's "interrupted", a closed connection), the
		// request ran out of time: a temporary failure, not a bug.
		se = errorf(http.StatusServiceUnavailable, "", "the request took too long")
	}
	r.scimType = se.ScimType
	if !known {
		level := slog.LevelError
		if se.Status == http.StatusServiceUnavailable { // an outage, reported by every request it fails
			level = slog.LevelWarn
		}
		h.log.Log(r.Context(), level, "scim: request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	if h.retryAfter > 0 && (se.Status == http.StatusServiceUnavailable || se.Status == http.StatusTooManyRequests && w.Header().Get("Retry-After") == "") {
		w.Header().Set("Retry-After", retryAfter(h.retryAfter))
	}
	if se.Status == http.StatusUnauthorized {
		challenge := `Bearer realm="scim"`
		if _, sent := BearerToken(r.Request); sent { // RFC 6750 §3: say why a token that was sent is refused
			challenge += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
	}
	h.writeJSON(w, se.Status, errorBody{
		Schemas:  []string{schema.ErrorURN},
		Status:   strconv.Itoa(se.Status),
		ScimType: se.ScimType,
		Detail:   echo.ClipTo(se.Detail, maxDetail),
	})
}

// retryAfter formats d as the whole seconds of a Retry-After header (RFC 9110 §10.2.3), rounded up.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(int(math.Ceil(d.Seconds())))
}
