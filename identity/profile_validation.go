package identity

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"
)

// Limits on profile fields, in code points unless said otherwise.
const (
	GenderMaxLength           = 50
	URLMaxLength              = 2000 // bytes
	LocaleMaxLength           = 35   // bytes; RFC 5646 §4.4.1 asks for at least 35
	ZoneinfoMaxLength         = 64   // bytes
	FormattedAddressMaxLength = 500
	StreetAddressMaxLength    = 200
	AddressPartMaxLength      = 100
	PostalCodeMaxLength       = 20
	// addressMaxLines bounds the lines of a multi-line address field.
	addressMaxLines = 6
	// birthYearMin is the earliest birth year accepted.
	birthYearMin = 1900
)

const msgControlChars = "Remove the special characters (such as line breaks or tabs)."

// lineOf returns a check for a one-line text of at most max code points.
func lineOf(max int) func(field, v string) error {
	return func(field, v string) error {
		if !utf8.ValidString(v) || strings.ContainsFunc(v, unicode.IsControl) {
			return fieldError(field, msgControlChars)
		}
		if utf8.RuneCountInString(v) > max {
			return fieldError(field, fmt.Sprintf("Use at most %d characters.", max))
		}
		return nil
	}
}

// linesOf returns a check for a text of several lines (OpenID Connect
// Core §5.1.1 separates an address's lines with "\n") of at most max code
// points. Line ends are normalised to "\n", each line is trimmed and empty
// lines are dropped.
func linesOf(max int) func(field, v string) (string, error) {
	return func(field, v string) (string, error) {
		v = strings.ReplaceAll(strings.ReplaceAll(v, "\r\n", "\n"), "\r", "\n")
		var lines []string
		for l := range strings.SplitSeq(v, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				lines = append(lines, l)
			}
		}
		out := strings.Join(lines, "\n")
		if !utf8.ValidString(out) || strings.ContainsFunc(out, func(r rune) bool { return r != '\n' && unicode.IsControl(r) }) {
			return "", fieldError(field, "Remove the special characters (such as tabs).")
		}
		if len(lines) > addressMaxLines {
			return "", fieldError(field, fmt.Sprintf("Use at most %d lines.", addressMaxLines))
		}
		if utf8.RuneCountInString(out) > max {
			return "", fieldError(field, fmt.Sprintf("Use at most %d characters.", max))
		}
		return out, nil
	}
}

// normalizeWebURL accepts an empty value or an absolute http or https URL
// with a host and without credentials, and lower-cases its scheme.
func normalizeWebURL(field, v string) (string, error) {
	if v == "" {
		return "", nil
	}
	if len(v) > URLMaxLength {
		return "", fieldError(field, fmt.Sprintf("This address is too long: use at most %d characters.", URLMaxLength))
	}
	bad := fieldError(field, "Enter a full web address starting with https://, for example https://example.com/me.")
	if !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return "", bad
	}
	u, err := url.Parse(v)
	if err != nil || u.Opaque != "" || u.Hostname() == "" {
		return "", bad
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", bad
	}
	// A user name in a URL ("https://bank.example@evil.example/") only
	// serves to mislead whoever reads it.
	if u.User != nil {
		return "", fieldError(field, "Remove the user name and password from the address.")
	}
	return scheme + v[len(u.Scheme):], nil
}

// normalizeBirthdate accepts the forms of OpenID Connect Core §5.1:
// YYYY-MM-DD, YYYY alone, or 0000-MM-DD when the year is withheld. The date
// must exist, lie in the past of now and not before birthYearMin.
func normalizeBirthdate(field, v string, now time.Time) (string, error) {
	if v == "" {
		return "", nil
	}
	format := fieldError(field, "Enter the date as YYYY-MM-DD (for example 1990-04-21), or just the year.")
	year, rest, hasRest := strings.Cut(v, "-")
	if len(year) != 4 || !allDigits(year) || hasRest && (len(rest) != 5 || rest[2] != '-' || !allDigits(rest[:2]+rest[3:])) {
		return "", format
	}
	y, _ := strconv.Atoi(year)
	if !hasRest {
		if y < birthYearMin || y > now.Year() {
			return "", fieldError(field, fmt.Sprintf("Enter a year between %d and %d.", birthYearMin, now.Year()))
		}
		return v, nil
	}
	check := v
	if y == 0 {
		check = "2000" + v[4:] // a leap year, so 0000-02-29 is a date
	}
	d, err := time.Parse(time.DateOnly, check)
	if err != nil {
		return "", fieldError(field, "This date does not exist. Enter it as YYYY-MM-DD.")
	}
	if y != 0 && (y < birthYearMin || d.After(now)) {
		return "", fieldError(field, fmt.Sprintf("Enter a date between %d and today.", birthYearMin))
	}
	return v, nil
}

func allDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// normalizeLocale accepts a BCP 47 language tag and returns it in
// canonical form ("en_gb" -> "en-GB").
func normalizeLocale(field, v string) (string, error) {
	if v == "" {
		return "", nil
	}
	bad := fieldError(field, "Enter a language code such as en, en-GB or pt-BR.")
	if len(v) > LocaleMaxLength {
		return "", bad
	}
	tag, err := language.Parse(v)
	if err != nil || tag == language.Und {
		return "", bad
	}
	return tag.String(), nil
}

// validateZoneinfo accepts an IANA time zone name known to this system,
// such as "Europe/Paris" or "UTC".
func validateZoneinfo(field, v string) error {
	if v == "" {
		return nil
	}
	bad := fieldError(field, "Choose a time zone such as Europe/London or America/New_York.")
	// "Local" names the server's zone, not a place; LoadLocation also
	// takes it.
	if len(v) > ZoneinfoMaxLength || v == "Local" || !utf8.ValidString(v) || strings.ContainsFunc(v, unicode.IsSpace) {
		return bad
	}
	if _, err := time.LoadLocation(v); err != nil {
		return bad
	}
	return nil
}
