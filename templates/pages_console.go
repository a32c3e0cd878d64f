package templates

import "io"

// ConsoleNav is the admin console's navigation, on every console page:
// the sections the signed-in user may open.
type ConsoleNav struct {
	Links []ConsoleLink
	// Current is the Href of the section shown, marked aria-current.
	Current string
	// UserName is who is signed in; LogoutURL signs them out.
	UserName  string
	LogoutURL string
}

// ConsoleLink is one section of the console.
type ConsoleLink struct {
	ID    string // stable id of the link, "nav-users"
	Href  string
	Label string
}

// ConsoleHomePage is the console's landing page: the sections, each with
// what it is for.
type ConsoleHomePage struct {
	Nav      ConsoleNav
	Sections []ConsoleSection
}

// ConsoleSection is one entry of the landing page.
type ConsoleSection struct {
	ConsoleLink
	Description string
}

// ConsoleUsersPage is the user search: the filters as typed, one page of
// results and the link to the next.
type ConsoleUsersPage struct {
	Nav    ConsoleNav
	Query  ConsoleUserQuery
	Roles  []string // the role filter's options
	Errors map[string]string
	Users  []ConsoleUserRow
	// NextURL continues the search; hidden when empty (the last page).
	NextURL string
	// NewUserURL is the "Create user" link; hidden when empty.
	NewUserURL string
	Notice     string
}

// ConsoleUserQuery are the search filters, as typed, to re-fill the form.
type ConsoleUserQuery struct {
	Q, Email, Status, Role                                       string
	CreatedAfter, CreatedBefore, LastLoginAfter, LastLoginBefore string // YYYY-MM-DD
	Sort, Direction                                              string
}

// ConsoleUserRow is one user in the search results.
type ConsoleUserRow struct {
	URL, Username, Email, Name, Status, Roles, Created, LastLogin string
}

// ConsoleUserPage is one user's details and the actions the signed-in
// administrator may take on them.
type ConsoleUserPage struct {
	Nav    ConsoleNav
	CSRF   string
	Notice string
	Alert  string
	User   ConsoleUser
	// Sessions, Factors and Audit are the user's browser sessions, second
	// factors and recent audit entries.
	Sessions []ConsoleSession
	Factors  []ConsoleFactor
	Audit    []ConsoleAuditEntry
	Actions  ConsoleUserActions
}

// ConsoleUser is a user as the detail page shows them.
type ConsoleUser struct {
	ID, Username, Name, Email, Phone string
	EmailVerified, PhoneVerified     bool
	Roles                            []string
	Status                           string // "active" or "disabled"
	Active                           bool
	Created, Updated, LastLogin      string
	// Locked says how a lockout keeps the user out; "" when none does.
	Locked string
}

// ConsoleSession is one of a user's browser sessions.
type ConsoleSession struct {
	Device, IP, SignedInWith, Created, LastSeen string
}

// ConsoleFactor is one of a user's second factors.
type ConsoleFactor struct {
	Kind, Name, Added, LastUsed string
}

// ConsoleAuditEntry is one audit entry about a user.
type ConsoleAuditEntry struct {
	Time, Action, Actor, Outcome string
}

// ConsoleUserActions are the detail page's forms and links, each hidden
// when empty. The Confirm ones lead to a confirmation page first.
type ConsoleUserActions struct {
	EditURL, RolesURL                               string
	ConfirmDeactivateURL, ConfirmEndSessionsURL     string
	ConfirmDeleteURL                                string
	ReactivateAction, SendResetAction, UnlockAction string
}

// ConsoleConfirmPage asks to confirm a change that cannot be taken back
// at once: one POST button and a way back.
type ConsoleConfirmPage struct {
	Nav       ConsoleNav
	CSRF      string
	Title     string
	Message   string
	Action    string
	Button    string
	ButtonID  string
	CancelURL string
}

// ConsoleUserFormPage creates a user (Create) or edits one's profile and
// contact details.
type ConsoleUserFormPage struct {
	Nav    ConsoleNav
	CSRF   string
	Title  string
	Action string
	Create bool
	Values ConsoleUserValues
	// Roles are the checkboxes of a new user's roles (Create only).
	Roles []ConsoleRoleOption
	// ETag is the user's as read, posted back as "etag" (edit only).
	ETag      string
	Errors    map[string]string
	Alert     string
	CancelURL string
}

// ConsoleUserValues re-fill the user form. A password never is.
type ConsoleUserValues struct {
	Username, Email, Phone, GivenName, FamilyName string
	EmailVerified, PhoneVerified, Invite          bool
}

// ConsoleRoleOption is one role checkbox.
type ConsoleRoleOption struct {
	Name, Description string
	Checked           bool
}

// ConsoleRolesPage edits a user's roles.
type ConsoleRolesPage struct {
	Nav       ConsoleNav
	CSRF      string
	Action    string
	UserName  string
	Roles     []ConsoleRoleOption
	ETag      string
	Alert     string
	CancelURL string
}

// consoleFormView adds the labelled fields to ConsoleUserFormPage.
type consoleFormView struct {
	ConsoleUserFormPage
	Fields   []field
	Password field
	Others   []string
}

func newConsoleFormView(p ConsoleUserFormPage) consoleFormView {
	prefix := "user-"
	fields := []field{
		{ID: prefix + "username", Name: "username", Label: "Username", Type: "text", Autocomplete: "off", Value: p.Values.Username, Verbatim: true, Required: true, MaxLength: 64},
		{ID: prefix + "email", Name: "email", Label: "Email", Type: "email", Autocomplete: "off", Value: p.Values.Email, Verbatim: true, Required: p.Create},
		{ID: prefix + "given-name", Name: "given_name", Label: "Given name", Type: "text", Autocomplete: "off", Value: p.Values.GivenName, MaxLength: 100},
		{ID: prefix + "family-name", Name: "family_name", Label: "Family name", Type: "text", Autocomplete: "off", Value: p.Values.FamilyName, MaxLength: 100},
	}
	if !p.Create {
		fields = append(fields, field{ID: prefix + "phone", Name: "phone_number", Label: "Phone number", Type: "tel", Autocomplete: "off", Value: p.Values.Phone})
	}
	fields = withErrors(fields, p.Errors)
	// Another person's password: never offered from or saved to the
	// administrator's password manager.
	pw := field{ID: prefix + "password", Name: "password", Label: "Password", Type: "password", Autocomplete: "new-password",
		Hint: "Only when no invitation is sent: the user's first password."}
	pw.Error = p.Errors[pw.key()]
	all := append([]field{pw, {Name: "roles"}}, fields...)
	return consoleFormView{ConsoleUserFormPage: p, Fields: fields, Password: pw, Others: otherErrors(p.Errors, all...)}
}

// ConsoleHome renders the console's landing page.
func (r *Renderer) ConsoleHome(w io.Writer, p ConsoleHomePage) error {
	return r.render(w, "console_home", p)
}

// ConsoleUsers renders the user search.
func (r *Renderer) ConsoleUsers(w io.Writer, p ConsoleUsersPage) error {
	return r.render(w, "console_users", p)
}

// ConsoleUser renders a user's details.
func (r *Renderer) ConsoleUser(w io.Writer, p ConsoleUserPage) error {
	return r.render(w, "console_user", p)
}

// ConsoleConfirm renders a confirmation step.
func (r *Renderer) ConsoleConfirm(w io.Writer, p ConsoleConfirmPage) error {
	return r.render(w, "console_confirm", p)
}

// ConsoleUserForm renders the form that creates or edits a user.
func (r *Renderer) ConsoleUserForm(w io.Writer, p ConsoleUserFormPage) error {
	return r.render(w, "console_user_form", newConsoleFormView(p))
}

// ConsoleRoles renders the form that edits a user's roles.
func (r *Renderer) ConsoleRoles(w io.Writer, p ConsoleRolesPage) error {
	return r.render(w, "console_roles", p)
}
