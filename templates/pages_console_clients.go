package templates

import "io"

// ConsoleClientsPage lists the OAuth clients.
type ConsoleClientsPage struct {
	Nav     ConsoleNav
	Clients []ConsoleClientRow
	// NewClientURL is the "Register a client" link; hidden when empty.
	NewClientURL string
	Notice       string
}

// ConsoleClientRow is one client of the list.
type ConsoleClientRow struct {
	URL, ID, Name, Type, AuthMethod, Grants string
	FirstParty                              bool
}

// ConsoleClientPage is one client's settings and the actions the
// signed-in administrator may take on it. Secret, when set, is the
// client's secret in the clear, shown this once after a registration or
// a rotation.
type ConsoleClientPage struct {
	Nav    ConsoleNav
	Notice string
	Client ConsoleClient
	Secret string
	// EditURL, ConfirmRotateURL and ConfirmDeleteURL are the actions'
	// links, each hidden when empty.
	EditURL, ConfirmRotateURL, ConfirmDeleteURL string
}

// ConsoleClient is a client as the detail page shows it.
type ConsoleClient struct {
	ID, Name, Type, AuthMethod, ApplicationType, TokenFormat string
	Grants, RedirectURIs, PostLogoutURIs                     []string
	Scope, BackchannelLogoutURI, Created, Updated            string
	FirstParty, Dynamic                                      bool
}

// ConsoleClientFormPage registers a client (Create) or replaces one's
// settings.
type ConsoleClientFormPage struct {
	Nav       ConsoleNav
	CSRF      string
	Title     string
	Action    string
	Create    bool
	Values    ConsoleClientValues
	Errors    map[string]string
	CancelURL string
}

// ConsoleClientValues re-fill the client form, as typed.
type ConsoleClientValues struct {
	Name, RedirectURIs, PostLogoutURIs, Scope, BackchannelLogoutURI string
	Grants                                                          []ConsoleOption
	AuthMethods, TokenFormats, ApplicationTypes                     []ConsoleOption
	FirstParty                                                      bool
}

// ConsoleOption is one checkbox or one option of a select.
type ConsoleOption struct {
	Value, Label string
	Checked      bool
}

// consoleClientFormView adds the errors no input shows.
type consoleClientFormView struct {
	ConsoleClientFormPage
	Others []string
}

// consoleClientFields are the Errors keys the client form shows next to
// an input: the metadata's JSON names.
var consoleClientFields = []string{"client_name", "redirect_uris", "post_logout_redirect_uris", "grant_types", "response_types",
	"scope", "first_party", "access_token_format", "backchannel_logout_uri", "token_endpoint_auth_method", "application_type"}

func newConsoleClientFormView(p ConsoleClientFormPage) consoleClientFormView {
	shown := make([]field, len(consoleClientFields))
	for i, k := range consoleClientFields {
		shown[i] = field{Name: k}
	}
	return consoleClientFormView{ConsoleClientFormPage: p, Others: otherErrors(p.Errors, shown...)}
}

// ConsoleAuditPage is the audit trail: the filters as typed, one page of
// entries, newest first, and the chain's verification when asked for.
type ConsoleAuditPage struct {
	Nav     ConsoleNav
	Query   ConsoleAuditQuery
	Errors  map[string]string
	Entries []ConsoleAuditRow
	// NextURL is the "Older entries" link; hidden on the last page.
	NextURL string
	// VerifyURL runs the chain's verification over the same filters.
	VerifyURL string
	Chain     *ConsoleChainStatus
}

// ConsoleAuditQuery are the filters as typed.
type ConsoleAuditQuery struct {
	User, Actor, Action, Since, Until string
}

// ConsoleAuditRow is one audit entry.
type ConsoleAuditRow struct {
	Seq, Time, Action, Outcome, Actor, Subject, IP, Details string
}

// ConsoleChainStatus is the outcome of the chain's verification.
type ConsoleChainStatus struct {
	Intact  bool
	Checked int64
	// When broken: the first broken link and what is wrong with it.
	Seq     int64
	Problem string
}

// ConsoleClients renders the client list.
func (r *Renderer) ConsoleClients(w io.Writer, p ConsoleClientsPage) error {
	return r.render(w, "console_clients", p)
}

// ConsoleClient renders a client's settings.
func (r *Renderer) ConsoleClient(w io.Writer, p ConsoleClientPage) error {
	return r.render(w, "console_client", p)
}

// ConsoleClientForm renders the form that registers or changes a client.
func (r *Renderer) ConsoleClientForm(w io.Writer, p ConsoleClientFormPage) error {
	return r.render(w, "console_client_form", newConsoleClientFormView(p))
}

// ConsoleAudit renders the audit trail.
func (r *Renderer) ConsoleAudit(w io.Writer, p ConsoleAuditPage) error {
	return r.render(w, "console_audit", p)
}
