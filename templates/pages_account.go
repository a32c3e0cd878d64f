package templates

import (
	"io"
	"regexp"
	"slices"
	"strings"
)

// Sections of the account page, as AccountPage.Section and the ?section=
// query parameter of the navigation links.
const (
	SectionProfile     = "profile"
	SectionContact     = "contact"
	SectionPassword    = "password"
	SectionPreferences = "preferences"
	SectionSessions    = "sessions"
	SectionSecurity    = "security"
)

// defaultAccountURL is where the section links point when AccountPage.URL
// is empty.
const defaultAccountURL = "/account"

// AccountPage is the signed-in user's account area: one section at a time,
// with a navigation between the sections. Each form posts to its own
// action.
type AccountPage struct {
	Section string // one of the Section* constants; anything else means SectionProfile
	CSRF    string
	Notice  string // confirmation shown above the section, e.g. "Your profile has been saved."
	// Errors maps a form field name to the message shown under that field.
	// The code forms use email_code and phone_code. Messages for keys that
	// no field of the section shows appear above the section.
	Errors map[string]string
	User   AccountUser
	// PasswordMinLength is the policy's minimum, for the hint and the
	// minlength attribute; 0 means the default of 8.
	PasswordMinLength int

	URL               string // the account page itself, for the section links; "" means "/account"
	ProfileAction     string
	EmailAction       string // new_email: start an address change
	EmailCodeAction   string // code: confirm the pending address
	ResendEmailAction string // send the verification e-mail for the current address again
	PhoneAction       string // phone: send a code to a new number
	PhoneCodeAction   string // code: confirm the pending number
	PasswordAction    string
	PreferencesAction string
	LogoutURL         string // "Sign out" link; hidden when empty

	// Sessions lists the user's signed-in browsers (sessions section).
	Sessions []AccountSession
	// SessionRevokeAction signs out one session (field "session");
	// SessionRevokeOthersAction signs out every session but this one.
	SessionRevokeAction       string
	SessionRevokeOthersAction string

	// Events are the user's recent security events (security section).
	Events []AccountEvent
	// TOTPSetupAction starts adding an authenticator app (security
	// section); the button is hidden when empty.
	TOTPSetupAction string
	// Factors are the user's second factors and RecoveryCodesLeft the
	// recovery codes not yet used (security section).
	Factors           []AccountFactor
	RecoveryCodesLeft int
	// FactorRemoveAction removes one factor (field "factor");
	// RecoveryCodesAction replaces the recovery codes.
	FactorRemoveAction  string
	RecoveryCodesAction string
	// Browsers are the browsers that skip the second factor (security
	// section). BrowserForgetAction forgets one (field "browser"),
	// BrowsersForgetAllAction all; each form is hidden when empty.
	Browsers                []AccountBrowser
	BrowserForgetAction     string
	BrowsersForgetAllAction string
	// FactorDefaultAction makes one factor the default (field
	// "factor"); the buttons are hidden when empty.
	FactorDefaultAction string
	// SignInCodeOptions are the sign-in codes the user could turn on,
	// posted to SignInCodesAction (field "kind").
	SignInCodeOptions []SignInCodeOption
	SignInCodesAction string
	// Passkeys is the passkey part of the security section; hidden when
	// its zero value.
	Passkeys AccountPasskeys
	// Links are the user's linked upstream accounts (security section);
	// LinkRemoveAction unlinks one (field "connector"), hidden when
	// empty.
	Links            []AccountLink
	LinkRemoveAction string
}

// AccountLink is one linked upstream account as the security section
// lists it.
type AccountLink struct {
	ConnectorID string
	Name        string // the connector's display name
	Linked      string // already formatted
}

// AccountBrowser is one remembered browser as the security section lists
// it.
type AccountBrowser struct {
	ID       string
	Label    string // e.g. "Firefox on Linux"
	Added    string // already formatted
	LastUsed string // already formatted
	Expires  string // already formatted
}

// SignInCodeOption is a kind of sign-in code the user could turn on.
type SignInCodeOption struct {
	Kind        string // "email" or "sms", posted as "kind"
	Label       string // e.g. "Sign-in codes by e-mail"
	Destination string // the masked address or number
	// Available: the address or number is verified; without, the
	// section says to verify it first.
	Available bool
}

// AccountPasskeys is what the security section offers for passkeys. With
// AddAction the page carries passkey.js, which shows the add form only
// where the browser supports passkeys; without JavaScript a note says
// why it is missing.
type AccountPasskeys struct {
	// OptionsAction answers the script with a registration's options
	// (JSON); AddAction takes the name and the new credential.
	OptionsAction string
	AddAction     string
	// RenameAction renames a passkey (fields "factor" and "name").
	RenameAction string
	// Unavailable, when set, replaces the add form: why passkeys cannot
	// be used here (an issuer reached by IP address).
	Unavailable string
}

// AccountFactor is one second factor as the security section lists it.
type AccountFactor struct {
	ID       string
	Kind     string // e.g. "Authenticator app"
	Name     string
	Added    string // already formatted
	LastUsed string // already formatted; "" when never used
	// Default: the sign-in asks for this factor first.
	Default bool
	// Passkey offers renaming; CounterWarning says its authenticator
	// reported a counter that went backwards (a possible copy).
	Passkey        bool
	CounterWarning bool
}

// AccountEvent is one entry of the user's security history.
type AccountEvent struct {
	When    string // already formatted
	What    string // e.g. "Signed in", "Password changed"
	IP      string
	Device  string
	Failure bool
}

// AccountSession is one signed-in browser as the sessions list shows it.
type AccountSession struct {
	ID       string // public session ID, posted back to sign it out
	Device   string // e.g. "Firefox on Linux"
	IP       string
	Created  string // already formatted for display
	LastSeen string
	// SignedInWith says in words how the session signed in ("password
	// and authenticator app"); empty when it is not known.
	SignedInWith string
	Current      bool // the browser looking at the page
}

// AccountUser is what the account page shows of the user. All strings are
// plain text.
type AccountUser struct {
	Username   string
	GivenName  string
	FamilyName string
	MiddleName string
	Nickname   string
	Picture    string // URL
	Website    string // URL
	Gender     string
	Birthdate  string // YYYY-MM-DD, YYYY or 0000-MM-DD
	Locale     string // BCP 47
	Zoneinfo   string // IANA time zone
	Address    AccountAddress

	Email         string
	EmailVerified bool
	PendingEmail  string // address waiting for its code; "" when none
	Phone         string
	PhoneVerified bool
	PendingPhone  string // number waiting for its code; "" when none
}

// AccountAddress is the postal address on the profile.
type AccountAddress struct {
	Street     string
	Locality   string
	Region     string
	PostalCode string
	Country    string
}

// Account renders the account page.
func (r *Renderer) Account(w io.Writer, p AccountPage) error {
	return r.render(w, "account", newAccountView(p))
}

// accountSections lists the sections in navigation order with their titles.
var accountSections = []struct{ key, title string }{
	{SectionProfile, "Profile"},
	{SectionContact, "Email and phone"},
	{SectionPassword, "Password"},
	{SectionPreferences, "Preferences"},
	{SectionSessions, "Sessions"},
	{SectionSecurity, "Security"},
}

// accountView is AccountPage with the current section's fields laid out.
type accountView struct {
	AccountPage
	Title string
	Nav   []navLink
	Alert alert

	Profile, Address []field // profile

	NewEmail, EmailCode, Phone, PhoneCode field // contact

	Username                     string // password: for password managers
	CurrentPassword, NewPassword field

	Locale   selectField // preferences
	Zoneinfo field
	Zones    []string
}

// navLink is one entry of the account navigation.
type navLink struct {
	ID, Href, Label string
	Current         bool
}

// selectField is a labelled <select> (the "select" partial).
type selectField struct {
	field
	Options []option
}

type option struct {
	Value, Label, Lang string
	Selected           bool
}

func newAccountView(p AccountPage) accountView {
	if p.URL == "" {
		p.URL = defaultAccountURL
	}
	v := accountView{AccountPage: p}
	for _, s := range accountSections {
		if s.key == p.Section {
			v.Title = s.title
		}
	}
	if v.Title == "" {
		v.Section, v.Title = SectionProfile, accountSections[0].title
	}
	for _, s := range accountSections {
		v.Nav = append(v.Nav, navLink{ID: "account-nav-" + s.key, Href: p.URL + "?section=" + s.key,
			Label: s.title, Current: s.key == v.Section})
	}

	var shown []field
	u := p.User
	switch v.Section {
	case SectionProfile:
		v.Profile, v.Address = profileFields(u), addressFields(u.Address)
		shown = slices.Concat(v.Profile, v.Address)
	case SectionContact:
		v.NewEmail = field{ID: "account-new_email", Name: "new_email", Label: "New email address", Type: "email",
			Autocomplete: "email", Required: true, Verbatim: true}
		v.EmailCode = codeField("account-email_code", "email_code", "Email verification code",
			"The 6-digit code we sent to "+u.PendingEmail+". Your current address stays in use until you confirm.")
		v.Phone = field{ID: "account-phone", Name: "phone", Label: "Phone number", Type: "tel", Autocomplete: "tel",
			Required: true, Hint: "We will send a code by text message to confirm the number."}
		if u.Phone != "" {
			v.Phone.Label = "New phone number"
		}
		v.PhoneCode = codeField("account-phone_code", "phone_code", "Phone verification code",
			"The 6-digit code we sent to "+u.PendingPhone+".")
		shown = []field{v.NewEmail, v.Phone}
		if u.PendingEmail != "" {
			shown = append(shown, v.EmailCode)
		}
		if u.PendingPhone != "" {
			shown = append(shown, v.PhoneCode)
		}
	case SectionPassword:
		minLen := passwordMin(p.PasswordMinLength)
		v.Username = u.Username
		v.CurrentPassword = field{ID: "account-current_password", Name: "current_password", Label: "Current password",
			Type: "password", Autocomplete: "current-password", Required: true}
		v.NewPassword = field{ID: "account-new_password", Name: "new_password", Label: "New password",
			Type: "password", Autocomplete: "new-password", Required: true, MinLength: minLen, Hint: passwordHint(minLen)}
		shown = []field{v.CurrentPassword, v.NewPassword}
	case SectionPreferences:
		v.Locale = selectField{
			field:   field{ID: "account-locale", Name: "locale", Label: "Language", Autocomplete: "language"},
			Options: localeOptions(u.Locale),
		}
		v.Zoneinfo = field{ID: "account-zoneinfo", Name: "zoneinfo", Label: "Time zone", Type: "text",
			Autocomplete: "off", Value: u.Zoneinfo, Verbatim: true, List: "zoneinfo-options",
			Hint: "A time zone name such as Europe/Berlin or America/New_York."}
		v.Zones = timeZones
		shown = []field{v.Locale.field, v.Zoneinfo}
	}
	v.setErrors()
	v.Alert = alert{ID: "account-error", Messages: otherErrors(p.Errors, shown...)}
	return v
}

// setErrors puts each field's message next to it.
func (v *accountView) setErrors() {
	errs := v.Errors
	withErrors(v.Profile, errs)
	withErrors(v.Address, errs)
	for _, f := range []*field{&v.NewEmail, &v.EmailCode, &v.Phone, &v.PhoneCode,
		&v.CurrentPassword, &v.NewPassword, &v.Locale.field, &v.Zoneinfo} {
		f.Error = errs[f.key()]
	}
}

// fullDateRE matches the birthdates an <input type=date> can show.
var fullDateRE = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)

func profileFields(u AccountUser) []field {
	birth := field{ID: "account-birthdate", Name: "birthdate", Label: "Date of birth", Type: "date",
		Autocomplete: "bday", Value: u.Birthdate}
	// A date input cannot show a year alone or a date without a year, and
	// would post such a value back empty, erasing it: use text for those.
	if u.Birthdate != "" && (!fullDateRE.MatchString(u.Birthdate) || strings.HasPrefix(u.Birthdate, "0000")) {
		birth.Type, birth.Verbatim = "text", true
		birth.Hint = "YYYY-MM-DD, the year alone (YYYY), or 0000-MM-DD to leave the year out."
	}
	fields := []field{
		{Name: "given_name", Label: "First name", Type: "text", Autocomplete: "given-name", Value: u.GivenName},
		{Name: "middle_name", Label: "Middle name", Type: "text", Autocomplete: "additional-name", Value: u.MiddleName},
		{Name: "family_name", Label: "Last name", Type: "text", Autocomplete: "family-name", Value: u.FamilyName},
		{Name: "nickname", Label: "Nickname", Type: "text", Autocomplete: "nickname", Value: u.Nickname},
		{Name: "username", Label: "Username", Type: "text", Autocomplete: "username", Value: u.Username, Required: true, Verbatim: true},
		{Name: "picture", Label: "Picture URL", Type: "url", Autocomplete: "url", Value: u.Picture, Verbatim: true,
			Hint: "A link to a picture of you, starting with https://."},
		{Name: "website", Label: "Website", Type: "url", Autocomplete: "url", Value: u.Website, Verbatim: true},
		{Name: "gender", Label: "Gender", Type: "text", Autocomplete: "sex", Value: u.Gender},
		birth,
	}
	return withIDs(fields)
}

func addressFields(a AccountAddress) []field {
	return withIDs([]field{
		{Name: "street_address", Label: "Street address", Type: "text", Autocomplete: "street-address", Value: a.Street},
		{Name: "locality", Label: "Town or city", Type: "text", Autocomplete: "address-level2", Value: a.Locality},
		{Name: "region", Label: "State, province or region", Type: "text", Autocomplete: "address-level1", Value: a.Region},
		{Name: "postal_code", Label: "Postal code", Type: "text", Autocomplete: "postal-code", Value: a.PostalCode, Verbatim: true},
		{Name: "country", Label: "Country", Type: "text", Autocomplete: "country-name", Value: a.Country},
	})
}

// withIDs gives each field the input id "account-"+Name.
func withIDs(fields []field) []field {
	for i := range fields {
		if fields[i].ID == "" {
			fields[i].ID = "account-" + fields[i].Name
		}
	}
	return fields
}

// languages are the locales offered on the preferences form, each named in
// its own language.
var languages = []option{
	{Value: "en", Label: "English"},
	{Value: "de", Label: "Deutsch (German)"},
	{Value: "fr", Label: "Français (French)"},
	{Value: "es", Label: "Español (Spanish)"},
	{Value: "it", Label: "Italiano (Italian)"},
	{Value: "nl", Label: "Nederlands (Dutch)"},
	{Value: "pt", Label: "Português (Portuguese)"},
	{Value: "ja", Label: "日本語 (Japanese)"},
	{Value: "zh", Label: "中文 (Chinese)"},
}

// localeOptions returns "Not set", the offered languages and, when it is
// none of them, the current locale, with the current one selected.
func localeOptions(current string) []option {
	opts := []option{{Value: "", Label: "Not set", Selected: current == ""}}
	found := current == ""
	for _, l := range languages {
		l.Lang = l.Value
		if strings.EqualFold(l.Value, current) {
			l.Selected, found = true, true
		}
		opts = append(opts, l)
	}
	if !found {
		opts = append(opts, option{Value: current, Label: current, Selected: true})
	}
	return opts
}

// timeZones are the suggestions of the time zone input; any IANA name may
// be typed.
var timeZones = []string{
	"UTC",
	"Europe/London", "Europe/Dublin", "Europe/Lisbon", "Europe/Paris", "Europe/Brussels", "Europe/Amsterdam",
	"Europe/Berlin", "Europe/Zurich", "Europe/Vienna", "Europe/Madrid", "Europe/Rome", "Europe/Stockholm",
	"Europe/Warsaw", "Europe/Prague", "Europe/Athens", "Europe/Helsinki", "Europe/Istanbul", "Europe/Kyiv", "Europe/Moscow",
	"Africa/Lagos", "Africa/Cairo", "Africa/Nairobi", "Africa/Johannesburg",
	"Asia/Dubai", "Asia/Karachi", "Asia/Kolkata", "Asia/Bangkok", "Asia/Jakarta", "Asia/Singapore", "Asia/Shanghai",
	"Asia/Hong_Kong", "Asia/Taipei", "Asia/Seoul", "Asia/Tokyo",
	"Australia/Perth", "Australia/Adelaide", "Australia/Brisbane", "Australia/Sydney", "Pacific/Auckland",
	"Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles", "America/Denver", "America/Phoenix",
	"America/Chicago", "America/Mexico_City", "America/New_York", "America/Toronto", "America/Halifax",
	"America/St_Johns", "America/Bogota", "America/Lima", "America/Santiago", "America/Argentina/Buenos_Aires",
	"America/Sao_Paulo",
}
