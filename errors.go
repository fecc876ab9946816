package scim

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/schema"
)

// Error is a SCIM error (RFC 7644 §3.12): an HTTP status, a scimType where the RFC defines one, and a detail
// for humans. A Store may return one to choose the client's answer itself; any other error it returns is
// mapped from the sentinel errors, or answered as a 500 whose detail says nothing of the cause.
type Error struct {
	Status   int
	ScimType string
	Detail   string
}

// Error formats the status, scimType and detail.
func (e *Error) Error() string {
	if e.ScimType != "" {
		return strconv.Itoa(e.Status) + " " + e.ScimType + ": " + e.Detail
	}
	return strconv.Itoa(e.Status) + ": " + e.Detail
}

// The scimType values of RFC 7644 §3.12.
const (
	InvalidFilter = "invalidFilter"
	TooMany       = "tooMany"
	Uniqueness    = "uniqueness"
	Mutability    = "mutability"
	InvalidSyntax = "invalidSyntax"
	InvalidPath   = "invalidPath"
	NoTarget      = "noTarget"
	InvalidValue  = "invalidValue"
	InvalidVers   = "invalidVers"
	Sensitive     = "sensitive"
	// InvalidCursor is RFC 9865's scimType for a cursor the service provider cannot use.
	InvalidCursor = "invalidCursor"
)

func errorf(status int, scimType, detail string) *Error {
	return &Error{Status: status, ScimType: scimType, Detail: detail}
}

// toError maps any error to the SCIM error the client sees.
func toError(err error) (*Error, bool) {
	var se *Error
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
	case errors.Is(err, schema.ErrInvalidValue):
		return errorf(http.StatusBadRequest, InvalidValue, err.Error()), true
	case errors.Is(err, context.DeadlineExceeded):
		return errorf(http.StatusServiceUnavailable, "", "the request took too long"), false
	}
	return errorf(http.StatusInternalServerError, "", "internal server error"), false
}

type errorBody struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	ScimType string   `json:"scimType,omitempty"`
	Detail   string   `json:"detail,omitempty"`
}

// writeError writes every error the handler answers. Errors that are not the client's doing are logged.
func (h *handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	se, known := toError(err)
	if st := stateOf(r); st != nil {
		st.scimType = se.ScimType
	}
	if !known {
		h.log.ErrorContext(r.Context(), "scim: request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	if se.Status == http.StatusUnauthorized {
		challenge := `Bearer realm="scim"`
		if _, sent := BearerToken(r); sent { // RFC 6750 §3: say why a token that was sent is refused
			challenge += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
	}
	h.writeJSON(w, se.Status, errorBody{
		Schemas:  []string{schema.ErrorURN},
		Status:   strconv.Itoa(se.Status),
		ScimType: se.ScimType,
		Detail:   se.Detail,
	})
}
