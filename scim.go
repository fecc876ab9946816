// Package scim is an embeddable SCIM 2.0 server (RFC 7643, RFC 7644) for the Users and Groups resources,
// made for the SaaS app whose customers provision their people from Microsoft Entra ID, Okta or any other
// SCIM client.
//
// The host app declares what its users keep (schema.DeclareUser, WithUserSchema), implements a small Store
// over its own database (or uses MemoryStore), creates a handler with New (or NewHandler, which panics on a
// configuration mistake such as an empty token) and mounts it next to its own routes:
//
//	h, err := scim.New(store, scim.WithTokens(os.Getenv("SCIM_TOKEN")))
//	if err != nil {
//		log.Fatal(err) // SCIM_TOKEN unset, say
//	}
//	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", h))
//
// The handler speaks the protocol: authentication, filters, sorting, paging, projection, PATCH, ETags,
// discovery and SCIM errors, with the tolerances real identity providers need (string booleans, op names in
// any case, dotted PATCH keys). The Store only persists users (and, as an optional GroupStore, groups) and
// enforces what only it can enforce atomically: uniqueness and versions.
//
// The guides are in the repository's docs directory: [mounting and options], [tenancy], [declaring the
// schema], [implementing a Store] (and checking it with package scimtest), [the SQL stores], [groups],
// [events], [observability], [limits], configuring [Entra ID] and [Okta], and the [design notes].
//
// [mounting and options]: https://github.com/scimkit/scim/blob/main/docs/options.md
// [tenancy]: https://github.com/scimkit/scim/blob/main/docs/tenancy.md
// [declaring the schema]: https://github.com/scimkit/scim/blob/main/docs/schema.md
// [implementing a Store]: https://github.com/scimkit/scim/blob/main/docs/stores.md
// [the SQL stores]: https://github.com/scimkit/scim/blob/main/docs/sqlstore.md
// [groups]: https://github.com/scimkit/scim/blob/main/docs/groups.md
// [events]: https://github.com/scimkit/scim/blob/main/docs/events.md
// [observability]: https://github.com/scimkit/scim/blob/main/docs/observability.md
// [limits]: https://github.com/scimkit/scim/blob/main/docs/limits.md
// [Entra ID]: https://github.com/scimkit/scim/blob/main/docs/entra.md
// [Okta]: https://github.com/scimkit/scim/blob/main/docs/okta.md
// [design notes]: https://github.com/scimkit/scim/blob/main/docs/design.md
package scim

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql/driver"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
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
// The seven share one type, with no per-attribute names: they have the same shape, so a named type for each
// would only add conversions, and a name for one of them alone (there was an Email) suggested a difference
// that does not exist.
type MultiValue struct {
	Value   string `json:"value,omitempty"`
	Display string `json:"display,omitempty"`
	Type    string `json:"type,omitempty"`
	Primary bool   `json:"primary,omitempty"`
}

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

// Meta is the resource's metadata (RFC 7643 §3.1). The handler sets Created and LastModified before it
// gives a resource to the Store, which keeps them; the Store sets Version, an opaque string that changes
// with every write. ResourceType and Location are the handler's alone: it fills them on every answer, so a
// Store need not keep them (a Store may return them empty; scimtest ignores them).
type Meta struct {
	ResourceType string    `json:"resourceType,omitempty"`
	Created      time.Time `json:"created,omitzero"`
	LastModified time.Time `json:"lastModified,omitzero"`
	Location     string    `json:"location,omitempty"`
	Version      string    `json:"version,omitempty"`
}

// userType is the User resource type of a handler without WithUserSchema: built once, never modified.
var userType = schema.User()

// Option configures the handler made by New or NewHandler. An option given an impossible value (a negative
// limit, a malformed token hash, a second way to authenticate) makes New return an error wrapping
// ErrInvalidOption, and NewHandler panic with it.
//
// Zero means the default in every option and in every field of an option's struct (TenantLimits,
// EventQueue, filter.Limits). Where turning a bound off is legitimate the option says so, and takes NoLimit.
type Option func(*config)

// NoLimit turns off the bound of an option that allows it: WithRequestTimeout, WithMaxScan and the fields of
// TenantLimits. Any negative value means the same; other options refuse negative values.
const NoLimit = -1

// ErrInvalidOption is wrapped by the error New returns (and NewHandler panics with) for a configuration
// mistake; the message names the option and the value.
var ErrInvalidOption = errors.New("scim: invalid option")

// fail records a configuration mistake, reported by New.
func (c *config) fail(format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidOption}, args...)...))
}

// setAuth sets the authentication; a second one is a mistake (which of them did the host mean?).
func (c *config) setAuth(option string, auth func(*http.Request) (string, error)) {
	if c.authBy != "" {
		c.fail("%s and %s both set the authentication: give one of WithTokens, WithTokenHashes and WithAuthenticator, once", c.authBy, option)
	}
	c.authBy, c.auth = option, auth
}

// positive is an option taking a positive bound or zero (the default): a negative n is refused, and a zero
// keeps def.
func positive[T int | int64 | time.Duration](c *config, option string, n T, dst *T) {
	switch {
	case n < 0:
		c.fail("%s(%v): must not be negative (0 means the default)", option, n)
	case n > 0:
		*dst = n
	}
}

type config struct {
	errs         []error // configuration mistakes, reported by New
	authBy       string  // the option that set auth, if any
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
	maxWork          int // 0: no bound
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
// every request is refused with 401. No tokens, or an empty one (an unset environment variable, say), is a
// configuration error, as is a second authentication option.
func WithTokens(tokens ...string) Option {
	return func(c *config) {
		hashes := make([]string, 0, len(tokens))
		for i, t := range tokens {
			if strings.TrimSpace(t) == "" {
				c.fail("WithTokens: token %d is empty", i)
				continue
			}
			hashes = append(hashes, HashToken(t).String())
		}
		c.tokenAuth("WithTokens", len(tokens), hashes)
	}
}

// WithTokenHashes is WithTokens for a host that keeps only the hashes of its tokens (HashToken, MintToken),
// as it should: a leaked configuration or database then grants nothing. A hash that is not 64 hex digits
// (TokenHash.String's form) is a configuration error, not a token silently left out.
func WithTokenHashes(hashes ...string) Option {
	return func(c *config) {
		valid := make([]string, 0, len(hashes))
		for i, h := range hashes {
			if b, err := hex.DecodeString(h); err != nil || len(b) != sha256.Size {
				c.fail("WithTokenHashes: hash %d is not a hex SHA-256 (64 hex digits, as HashToken makes)", i)
				continue
			}
			valid = append(valid, h)
		}
		c.tokenAuth("WithTokenHashes", len(hashes), valid)
	}
}

// tokenAuth sets the authentication of WithTokens and WithTokenHashes: n were given, hashes are the valid ones.
func (c *config) tokenAuth(option string, n int, hashes []string) {
	if n == 0 {
		c.fail("%s: no tokens given: every request would be refused", option)
	}
	want := make([][]byte, len(hashes))
	for i, h := range hashes {
		want[i], _ = hex.DecodeString(h)
	}
	c.setAuth(option, func(r *http.Request) (string, error) {
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
	})
}

// HashToken returns the hash a host stores in place of a SCIM token: SHA-256. Tokens from MintToken carry
// 256 random bits, so a fast hash is enough; a password hash would only slow every request down. A
// multi-tenant host looks the hash up in its accounts table in its authenticator (WithAuthenticator),
// passing it to the database as it is (its Value is the hex text; h[:] the raw bytes for a binary column).
func HashToken(token string) TokenHash {
	return sha256.Sum256([]byte(token))
}

// TokenHash is a SCIM token's SHA-256 (HashToken). Its text form, the one WithTokenHashes takes, is 64
// lower-case hex digits; it is a database/sql value and scanner of that form, so that a GORM or
// database/sql model keeps it in a text column as a field of this type, and a binary column gets h[:].
type TokenHash [sha256.Size]byte

// String returns the hash as 64 lower-case hex digits.
func (h TokenHash) String() string { return hex.EncodeToString(h[:]) }

// Value implements driver.Valuer: the hex text.
func (h TokenHash) Value() (driver.Value, error) { return h.String(), nil }

// Scan implements sql.Scanner: the hex text (string or bytes), or the 32 raw bytes of a binary column.
func (h *TokenHash) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case string:
		b = []byte(v)
	case []byte:
		if len(v) == sha256.Size {
			copy(h[:], v)
			return nil
		}
		b = v
	default:
		return fmt.Errorf("scim: cannot scan %T into a TokenHash", src)
	}
	if hex.DecodedLen(len(b)) != sha256.Size {
		return fmt.Errorf("scim: a TokenHash is %d hex digits, not %d bytes", 2*sha256.Size, len(b))
	}
	_, err := hex.Decode(h[:], b)
	return err
}

// MintToken returns a new random token (256 bits, URL-safe base64: what an admin pastes into Entra ID as the
// Secret Token, shown to them once) and the hash to store (HashToken).
func MintToken() (token string, hash TokenHash) {
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
//
// A nil auth, or a second authentication option, is a configuration error.
func WithAuthenticator(auth func(r *http.Request) (tenant string, err error)) Option {
	return func(c *config) {
		if auth == nil {
			c.fail("WithAuthenticator(nil)")
			return
		}
		c.setAuth("WithAuthenticator", auth)
	}
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
// when a client names no count. The default (0) is 1000; a negative n is a configuration error.
func WithMaxResults(n int) Option {
	return func(c *config) { positive(c, "WithMaxResults", n, &c.maxResults) }
}

// WithMaxBodyBytes sets the largest request body accepted; larger ones get 413. The default (0) is 1 MiB; a
// negative n is a configuration error.
func WithMaxBodyBytes(n int64) Option {
	return func(c *config) { positive(c, "WithMaxBodyBytes", n, &c.maxBodyBytes) }
}

// WithFilterLimits bounds the filters a client may send: their length in bytes, how deeply and/or/not and
// value filters nest, how many comparisons they hold (filter.DefaultLimits: 4096 bytes, 32 levels, …).
// Longer or deeper ones get 400 invalidFilter. A zero field keeps its default; a negative one is a
// configuration error.
func WithFilterLimits(l filter.Limits) Option {
	return func(c *config) {
		if l.MaxLength < 0 || l.MaxDepth < 0 || l.MaxTerms < 0 || l.MaxMultiValued < 0 {
			c.fail("WithFilterLimits(%+v): fields must not be negative (0 means the default)", l)
			return
		}
		c.limits = l
	}
}

// WithMaxOperations sets how many operations one PATCH may carry (default, or 0: 1000), each key of a
// path-less value counting as one; more get 400 invalidValue. A negative n is a configuration error.
func WithMaxOperations(n int) Option {
	return func(c *config) { positive(c, "WithMaxOperations", n, &c.maxOps) }
}

// WithRequestTimeout bounds each request, the Store's work included: the context the Store gets ends after
// d, and a request that runs out answers 503. The default (0) is 30 seconds; NoLimit (any negative d) means
// no bound beyond the client's own.
func WithRequestTimeout(d time.Duration) Option {
	return func(c *config) {
		switch {
		case d < 0:
			c.timeout = 0 // no bound
		case d > 0:
			c.timeout = d
		}
	}
}

// WithLogger sets the logger for failures that are not the client's doing. The default is slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.log = l
		}
	}
}
