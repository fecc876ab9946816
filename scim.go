// Package scim is an embeddable SCIM 2.0 server (RFC 7643, RFC 7644) for the Users resource, made for the
// SaaS app whose customers provision their people from Microsoft Entra ID, Okta or any other SCIM client.
//
// The host app implements a small Store over its own database (or uses MemoryStore), creates a handler with
// NewHandler and mounts it next to its own routes:
//
//	h := scim.NewHandler(store, scim.WithTokens(os.Getenv("SCIM_TOKEN")))
//	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", h))
//
// The handler speaks the protocol: authentication, filters, sorting, paging, projection, PATCH, ETags,
// discovery and SCIM errors, with the tolerances real identity providers need (string booleans, op names in
// any case, dotted PATCH keys). The Store only persists users and enforces what only it can enforce
// atomically: userName uniqueness and versions.
package scim

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/schema"
)

// User is a SCIM User resource: the RFC 7643 §4.1 core schema and the §4.3 enterprise extension. Its JSON
// form is the canonical SCIM representation. An empty string or nil means the attribute is unassigned.
type User struct {
	// Schemas lists the schema URNs the resource uses. The handler derives it from the content on output.
	Schemas           []string `json:"schemas,omitempty"`
	ID                string   `json:"id,omitempty"`
	ExternalID        string   `json:"externalId,omitempty"`
	UserName          string   `json:"userName,omitempty"`
	Name              *Name    `json:"name,omitempty"`
	DisplayName       string   `json:"displayName,omitempty"`
	NickName          string   `json:"nickName,omitempty"`
	ProfileURL        string   `json:"profileUrl,omitempty"`
	Title             string   `json:"title,omitempty"`
	UserType          string   `json:"userType,omitempty"`
	PreferredLanguage string   `json:"preferredLanguage,omitempty"`
	Locale            string   `json:"locale,omitempty"`
	Timezone          string   `json:"timezone,omitempty"`
	Active            *bool    `json:"active,omitempty"`
	// PasswordHash is the user's password as a slow salted hash (bcrypt), set only when the handler accepts
	// passwords (WithPasswords(PasswordsHashed)); the plaintext never reaches a Store. It is not part of
	// the JSON form, so it never reaches a search copy, an outbox, an event or a log; a Store keeps it in a
	// column of its own, and the host checks a sign-in with CheckPassword.
	PasswordHash     string          `json:"-"`
	Emails           []MultiValue    `json:"emails,omitempty"`
	PhoneNumbers     []MultiValue    `json:"phoneNumbers,omitempty"`
	IMs              []MultiValue    `json:"ims,omitempty"`
	Photos           []MultiValue    `json:"photos,omitempty"`
	Addresses        []Address       `json:"addresses,omitempty"`
	Groups           []GroupRef      `json:"groups,omitempty"`
	Entitlements     []MultiValue    `json:"entitlements,omitempty"`
	Roles            []MultiValue    `json:"roles,omitempty"`
	X509Certificates []MultiValue    `json:"x509Certificates,omitempty"`
	Enterprise       *EnterpriseUser `json:"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User,omitempty"`
	Meta             Meta            `json:"meta,omitzero"`
	// Extensions holds the attributes of the host's own extension schemas (schema.UserDeclaration), by
	// schema URN, in their canonical JSON form. Read and write them with ExtensionAttr rather than by hand.
	// In JSON each extension is an object under its URN, as RFC 7643 §3.3 has it.
	Extensions map[string]Attributes `json:"-"`
}

// IsActive reports the user's active flag; an unassigned flag counts as active, as SCIM clients assume.
func (u *User) IsActive() bool { return u.Active == nil || *u.Active }

// Name is the components of a user's name (RFC 7643 §4.1.1).
type Name struct {
	Formatted       string `json:"formatted,omitempty"`
	FamilyName      string `json:"familyName,omitempty"`
	GivenName       string `json:"givenName,omitempty"`
	MiddleName      string `json:"middleName,omitempty"`
	HonorificPrefix string `json:"honorificPrefix,omitempty"`
	HonorificSuffix string `json:"honorificSuffix,omitempty"`
}

// MultiValue is one value of the multi-valued attributes that share the sub-attributes value, display, type
// and primary: emails, phoneNumbers, ims, photos, entitlements, roles and x509Certificates (RFC 7643 §2.4).
type MultiValue struct {
	Value   string `json:"value,omitempty"`
	Display string `json:"display,omitempty"`
	Type    string `json:"type,omitempty"`
	Primary bool   `json:"primary,omitempty"`
}

// Email is one of a user's email addresses.
type Email = MultiValue

// Address is one of a user's physical mailing addresses (RFC 7643 §4.1.2).
type Address struct {
	Formatted     string `json:"formatted,omitempty"`
	StreetAddress string `json:"streetAddress,omitempty"`
	Locality      string `json:"locality,omitempty"`
	Region        string `json:"region,omitempty"`
	PostalCode    string `json:"postalCode,omitempty"`
	Country       string `json:"country,omitempty"`
	Type          string `json:"type,omitempty"`
	Primary       bool   `json:"primary,omitempty"`
}

// GroupRef is a group the user belongs to. It is read-only: clients change membership through the group.
type GroupRef struct {
	Value   string `json:"value,omitempty"`
	Ref     string `json:"$ref,omitempty"`
	Display string `json:"display,omitempty"`
	Type    string `json:"type,omitempty"`
}

// EnterpriseUser is the enterprise User extension (RFC 7643 §4.3).
type EnterpriseUser struct {
	EmployeeNumber string   `json:"employeeNumber,omitempty"`
	CostCenter     string   `json:"costCenter,omitempty"`
	Organization   string   `json:"organization,omitempty"`
	Division       string   `json:"division,omitempty"`
	Department     string   `json:"department,omitempty"`
	Manager        *Manager `json:"manager,omitempty"`
}

// Manager is the user's manager: another user of the same service provider.
type Manager struct {
	Value       string `json:"value,omitempty"`
	Ref         string `json:"$ref,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
}

// Meta is the resource's metadata (RFC 7643 §3.1). The handler sets ResourceType, Created, LastModified and
// Location; the Store sets Version, an opaque string that changes with every write.
type Meta struct {
	ResourceType string    `json:"resourceType,omitempty"`
	Created      time.Time `json:"created,omitzero"`
	LastModified time.Time `json:"lastModified,omitzero"`
	Location     string    `json:"location,omitempty"`
	Version      string    `json:"version,omitempty"`
}

// userType is the User resource type of a handler without WithUserSchema: built once, never modified.
var userType = schema.User()

// Option configures the handler made by NewHandler.
type Option func(*config)

type config struct {
	auth         func(*http.Request) (string, error)
	baseURL      string
	maxResults   int
	maxBodyBytes int64
	maxRetries   int
	maxOps       int
	// The cost model's limits (limits.go).
	maxValues        int
	maxResourceBytes int
	maxAttrNames     int
	maxScan          int
	maxPageBytes     int
	timeout          time.Duration
	retryAfter       time.Duration
	events           func(context.Context, Event)
	eventQueue       EventQueue
	metrics          func(RequestInfo)
	requestLog       *slog.Logger
	log              *slog.Logger
	limits           filter.Limits
	passwords        PasswordPolicy
	userSchema       *schema.ResourceType
	tenantLim        *tenantLimiter // nil: no per-tenant limits
	// Groups (groups_handler.go); zero means the default.
	maxGroupBodyBytes int64
	maxMembers        int
}

// WithUserSchema serves the User resource type that schema.DeclareUser made: only the attributes the host
// keeps, and its own extensions. Give the same value to a Store that maps attributes (sqlstore.WithSchema)
// and to scimtest. Without it the handler serves every core and enterprise attribute.
func WithUserSchema(rt *schema.ResourceType) Option {
	return func(c *config) { c.userSchema = rt }
}

// WithTokens accepts requests whose Authorization header is "Bearer <token>" for one of tokens, compared in
// constant time; they all act for the tenant "". Without WithTokens, WithTokenHashes or WithAuthenticator
// every request is refused with 401.
func WithTokens(tokens ...string) Option {
	hashes := make([]string, len(tokens))
	for i, t := range tokens {
		hashes[i] = HashToken(t)
	}
	return WithTokenHashes(hashes...)
}

// WithTokenHashes is WithTokens for a host that keeps only the hashes of its tokens (HashToken, MintToken),
// as it should: a leaked configuration or database then grants nothing.
func WithTokenHashes(hashes ...string) Option {
	want := make([][]byte, 0, len(hashes))
	for _, h := range hashes {
		if b, err := hex.DecodeString(h); err == nil && len(b) == sha256.Size {
			want = append(want, b)
		}
	}
	return func(c *config) {
		c.auth = func(r *http.Request) (string, error) {
			tok, ok := BearerToken(r)
			if !ok {
				return "", ErrUnauthorized
			}
			// Compare digests: constant time whatever the token's length, and every hash is tried.
			got := sha256.Sum256([]byte(tok))
			match := 0
			for _, w := range want {
				match |= subtle.ConstantTimeCompare(got[:], w)
			}
			if match == 0 {
				return "", ErrUnauthorized
			}
			return "", nil
		}
	}
}

// HashToken returns the hash a host stores in place of a SCIM token: hex SHA-256. Tokens from MintToken carry
// 256 random bits, so a fast hash is enough; a password hash would only slow every request down. A
// multi-tenant host looks the hash up in its accounts table in its authenticator (WithAuthenticator).
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// MintToken returns a new random token (256 bits, URL-safe base64: what an admin pastes into Entra ID as the
// Secret Token, shown to them once) and the hash to store (HashToken).
func MintToken() (token, hash string) {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, HashToken(token)
}

// WithAuthenticator authenticates each request with auth, which returns the tenant (customer account) the
// request acts for. Its error answers the request: ErrUnauthorized (errors.Is) gives 401, an *Error its own
// status (403, say), ErrUnavailable or context.DeadlineExceeded 503. Any other error means the
// authenticator itself failed (its accounts table is unreachable, say): the request gets 500 and the error is
// logged at Error, never a 401 that would tell the identity provider its token was revoked. A multi-tenant
// SaaS maps each customer's token to its account here; BearerToken extracts the token.
func WithAuthenticator(auth func(r *http.Request) (tenant string, err error)) Option {
	return func(c *config) { c.auth = auth }
}

// ErrUnauthorized is what an authenticator returns for missing or wrong credentials.
var ErrUnauthorized = errors.New("scim: unauthorized")

// BearerToken returns the token of an "Authorization: Bearer <token>" header (scheme without case).
func BearerToken(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", false
	}
	return tok, true
}

// WithBaseURL sets the absolute URL the handler is reachable at, such as "https://api.example.com/scim/v2",
// for meta.location and the Location header. Without it they are built from the request's Host and the
// prefix the host stripped; set it when a proxy sits in front.
func WithBaseURL(u string) Option {
	return func(c *config) { c.baseURL = strings.TrimRight(u, "/") }
}

// WithMaxResults sets the largest page a list answers (advertised as filter.maxResults), and the page size
// when a client names no count. The default is 1000.
func WithMaxResults(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxResults = n
		}
	}
}

// WithMaxBodyBytes sets the largest request body accepted; larger ones get 413. The default is 1 MiB.
func WithMaxBodyBytes(n int64) Option {
	return func(c *config) {
		if n > 0 {
			c.maxBodyBytes = n
		}
	}
}

// WithFilterLimits bounds the filters a client may send: their length in bytes and how deeply and/or/not
// and value filters nest (filter.DefaultLimits: 4096 bytes, 32 levels). Longer or deeper ones get 400
// invalidFilter.
func WithFilterLimits(l filter.Limits) Option {
	return func(c *config) { c.limits = l }
}

// WithMaxOperations sets how many operations one PATCH may carry (default 1000), each key of a path-less
// value counting as one; more get 400 invalidValue.
func WithMaxOperations(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxOps = n
		}
	}
}

// WithRequestTimeout bounds each request, the Store's work included: the context the Store gets ends after
// d, and a request that runs out answers 503. The default is 30 seconds; 0 or less means no bound beyond the
// client's own.
func WithRequestTimeout(d time.Duration) Option {
	return func(c *config) { c.timeout = d }
}

// WithLogger sets the logger for failures that are not the client's doing. The default is slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.log = l
		}
	}
}
