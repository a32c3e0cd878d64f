package identity

import (
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// phoneMaxInput bounds what NormalizePhone parses; the longest E.164
// number has 15 digits, and people add spaces, brackets and dashes.
const phoneMaxInput = 40

// Messages for phone numbers.
const (
	msgPhoneEnter   = "Enter a phone number."
	msgPhoneInvalid = "Enter a valid phone number, for example +44 7911 123456."
	msgPhoneCountry = "Enter the phone number with its country code, for example +44 7911 123456."
	msgPhoneNoText  = "This number cannot receive text messages. Enter a mobile number."
)

// NormalizePhone parses a phone number as people type it ("07911 123456",
// "+44 (0)7911-123456") and returns it in E.164 ("+447911123456"). A
// number without a country code is read as one of region (ISO 3166-1
// alpha-2, e.g. "GB"); with region empty the country code is required. An
// invalid number, or one with an extension, yields a *ValidationError for
// FieldPhone.
func NormalizePhone(raw, region string) (string, error) {
	n, err := parsePhone(raw, region)
	if err != nil {
		return "", err
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

func parsePhone(raw, region string) (*phonenumbers.PhoneNumber, error) {
	raw = strings.TrimSpace(raw)
	switch {
	case raw == "":
		return nil, fieldError(FieldPhone, msgPhoneEnter)
	case len(raw) > phoneMaxInput || !utf8.ValidString(raw):
		return nil, fieldError(FieldPhone, msgPhoneInvalid)
	}
	n, err := phonenumbers.Parse(raw, strings.ToUpper(region))
	if err != nil {
		if errors.Is(err, phonenumbers.ErrInvalidCountryCode) && !strings.HasPrefix(raw, "+") {
			return nil, fieldError(FieldPhone, msgPhoneCountry)
		}
		return nil, fieldError(FieldPhone, msgPhoneInvalid)
	}
	if !phonenumbers.IsValidNumber(n) || n.GetExtension() != "" {
		return nil, fieldError(FieldPhone, msgPhoneInvalid)
	}
	return n, nil
}

// normalizeMobile is NormalizePhone for a number that must receive text
// messages: fixed lines and service numbers (toll-free, premium rate,
// shared cost) are refused. Numbers whose type the metadata cannot tell
// (some countries mix fixed and mobile ranges) are let through.
func normalizeMobile(raw, region string) (string, error) {
	n, err := parsePhone(raw, region)
	if err != nil {
		return "", err
	}
	switch phonenumbers.GetNumberType(n) {
	case phonenumbers.FIXED_LINE, phonenumbers.TOLL_FREE, phonenumbers.PREMIUM_RATE,
		phonenumbers.SHARED_COST, phonenumbers.UAN, phonenumbers.VOICEMAIL:
		return "", fieldError(FieldPhone, msgPhoneNoText)
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}
