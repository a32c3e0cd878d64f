package identity

import (
	"fmt"
	"maps"
	"net/mail"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Field names used as keys of ValidationError.Fields. They match the form
// field names of the hosted pages so a handler can put each message next to
// its input.
const (
	FieldUsername   = "username"
	FieldEmail      = "email"
	FieldPassword   = "password"
	FieldGivenName  = "given_name"
	FieldFamilyName = "family_name"
	FieldRoles      = "roles"
	// FieldPhone is the phone number at registration and on the account
	// page.
	FieldPhone = "phone"
	// FieldCurrentPassword is the password a password change must repeat.
	FieldCurrentPassword = "current_password"
)

// Field names of the profile (ProfileInput), after the OpenID Connect
// claims; the address parts drop the "address." prefix.
const (
	FieldMiddleName       = "middle_name"
	FieldNickname         = "nickname"
	FieldPicture          = "picture"
	FieldWebsite          = "website"
	FieldGender           = "gender"
	FieldBirthdate        = "birthdate"
	FieldLocale           = "locale"
	FieldZoneinfo         = "zoneinfo"
	FieldFormattedAddress = "formatted_address"
	FieldStreetAddress    = "street_address"
	FieldLocality         = "locality"
	FieldRegion           = "region"
	FieldPostalCode       = "postal_code"
	FieldCountry          = "country"
)

// Limits on the fields that the identity service validates.
const (
	UsernameMinLength = 3
	UsernameMaxLength = 64
	// NameMaxLength bounds given and family name, in code points.
	NameMaxLength = 100
	// RFC 5321 §4.5.3.1: a path is at most 256 octets including the angle
	// brackets, so an address is at most 254; a local part at most 64.
	emailMaxLength      = 254
	emailLocalMaxLength = 64
)

// ValidationError reports every problem found in one input at once, as a
// human-readable message per field, so a page can show all of them together.
type ValidationError struct {
	// Fields maps a field name (FieldUsername, ...) to a message for the
	// person who filled in the form, e.g. "Choose a longer password: at
	// least 8 characters." Messages never repeat the submitted value.
	Fields map[string]string
	// Taken lists the fields whose value is fine but already belongs to
	// another account (a username, an e-mail address): a clash with the
	// stored data, which an API answers 409 Conflict rather than 400.
	Taken []string
}

// OnlyTaken reports whether every problem is a value another account
// holds.
func (e *ValidationError) OnlyTaken() bool {
	if len(e.Fields) == 0 {
		return false
	}
	for f := range e.Fields {
		if !slices.Contains(e.Taken, f) {
			return false
		}
	}
	return true
}

// addTaken records that field's value belongs to another account.
func (e *ValidationError) addTaken(field, msg string) {
	if _, ok := e.Fields[field]; !ok {
		e.Taken = append(e.Taken, field)
	}
	e.Add(field, msg)
}

// Error lists the problems in field order.
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("identity: invalid input")
	for i, k := range slices.Sorted(maps.Keys(e.Fields)) {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %s", k, e.Fields[k])
	}
	return b.String()
}

// Add records msg for field unless the field already has a message: the
// first problem found is the one worth fixing first.
func (e *ValidationError) Add(field, msg string) {
	if e.Fields == nil {
		e.Fields = make(map[string]string)
	}
	if _, ok := e.Fields[field]; !ok {
		e.Fields[field] = msg
	}
}

// merge folds err into e when it is a *ValidationError and returns nil;
// any other non-nil error is returned unchanged.
func (e *ValidationError) merge(err error) error {
	if err == nil {
		return nil
	}
	ve, ok := err.(*ValidationError)
	if !ok {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(ve.Fields)) {
		e.Add(k, ve.Fields[k])
	}
	return nil
}

// orNil returns e as an error, or nil when it holds no problem, so callers
// never return a typed nil.
func (e *ValidationError) orNil() error {
	if len(e.Fields) == 0 {
		return nil
	}
	return e
}

func fieldError(field, msg string) *ValidationError {
	return &ValidationError{Fields: map[string]string{field: msg}}
}

// NormalizeEmail checks that s is a bare e-mail address and returns it in
// the form Gatehouse stores: surrounding space trimmed and the domain in
// lower case. The local part is kept exactly as typed, because RFC 5321
// §2.4 lets the receiving server treat it case-sensitively. Display names,
// angle brackets, comments and quoted local parts are rejected. An invalid
// address yields a *ValidationError for FieldEmail.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fieldError(FieldEmail, "Enter your e-mail address.")
	}
	bad := fieldError(FieldEmail, "Enter an e-mail address in the form name@example.com.")
	addr, err := mail.ParseAddress(s)
	if err != nil {
		return "", bad
	}
	// ParseAddress accepts "Name <a@b>", "(comment) a@b" and quoted local
	// parts, and hands back a different Address for each of them.
	if addr.Name != "" || addr.Address != s {
		return "", bad
	}
	at := strings.LastIndexByte(s, '@')
	local, domain := s[:at], s[at+1:]
	if local == "" || domain == "" || strings.HasPrefix(domain, "[") || strings.ContainsFunc(s, unicode.IsSpace) {
		return "", bad
	}
	if len(s) > emailMaxLength || len(local) > emailLocalMaxLength {
		return "", fieldError(FieldEmail, "This e-mail address is too long.")
	}
	return local + "@" + strings.ToLower(domain), nil
}

// ValidateUsername checks the username rules: 3 to 64 characters of ASCII
// letters, digits, '.', '_' and '-', starting with a letter or digit.
// Usernames are stored as typed and compared in lower case; keeping them
// ASCII makes that comparison unambiguous and rules out look-alike letters
// from other scripts. An invalid name yields a *ValidationError for
// FieldUsername.
func ValidateUsername(username string) error {
	if username == "" {
		return fieldError(FieldUsername, "Enter a username.")
	}
	n := utf8.RuneCountInString(username)
	if n < UsernameMinLength || n > UsernameMaxLength {
		return fieldError(FieldUsername, fmt.Sprintf("Use %d to %d characters for the username.", UsernameMinLength, UsernameMaxLength))
	}
	if !isASCIIAlnum(rune(username[0])) {
		return fieldError(FieldUsername, "Start the username with a letter or a digit.")
	}
	for _, r := range username {
		if !isASCIIAlnum(r) && r != '.' && r != '_' && r != '-' {
			return fieldError(FieldUsername, "Use only letters (a-z), digits, dots, underscores and hyphens in the username.")
		}
	}
	return nil
}

func isASCIIAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// validateName checks an optional given or family name: at most
// NameMaxLength code points and no control characters.
func validateName(field, name string) error {
	if utf8.RuneCountInString(name) > NameMaxLength {
		return fieldError(field, fmt.Sprintf("Use at most %d characters.", NameMaxLength))
	}
	if !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl) {
		return fieldError(field, "Remove the special characters (such as line breaks or tabs).")
	}
	return nil
}

// normalizeRoles trims each role, drops empty entries and duplicates, and
// rejects roles containing spaces or control characters.
func normalizeRoles(roles []string) ([]string, error) {
	var out []string
	for _, r := range roles {
		r = strings.TrimSpace(r)
		if r == "" || slices.Contains(out, r) {
			continue
		}
		if strings.ContainsFunc(r, func(c rune) bool { return unicode.IsSpace(c) || unicode.IsControl(c) }) {
			return nil, fieldError(FieldRoles, "Role names cannot contain spaces or control characters.")
		}
		out = append(out, r)
	}
	return out, nil
}
