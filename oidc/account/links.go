package account

import (
	"context"
	"errors"
	"net/http"

	"gatehouse/federation"
	"gatehouse/identity"
	"gatehouse/identity/audit"
	"gatehouse/templates"
)

// LinkedAccounts lists and removes the user's links to upstream
// accounts; *federation.Links is one. Unlink refuses the last way to
// sign in with federation.ErrLastSignInMethod.
type LinkedAccounts interface {
	List(ctx context.Context, userID string) ([]federation.LinkedAccount, error)
	Unlink(ctx context.Context, userID, connectorID string) error
	Name(connectorID string) string
}

// Notifier queues the mails that tell the owner of a change.
type Notifier interface {
	SendMail(ctx context.Context, m identity.Mail) error
}

// PathLinkRemove removes one linked account (field "connector").
const PathLinkRemove = Path + "/links/remove"

func (h *Handler) linkedAccounts(r *request) ([]templates.AccountLink, error) {
	if h.Links == nil {
		return nil, nil
	}
	links, err := h.Links.List(r.c.Request().Context(), r.user.ID)
	if err != nil {
		return nil, err
	}
	out := make([]templates.AccountLink, 0, len(links))
	for _, l := range links {
		out = append(out, templates.AccountLink{ConnectorID: l.ConnectorID, Name: l.Name,
			Linked: l.LinkedAt.UTC().Format("2 Jan 2006")})
	}
	return out, nil
}

// removeLink unlinks one of the user's upstream accounts, unless it is
// their last way to sign in.
func (h *Handler) removeLink(r *request) error {
	ctx := r.c.Request().Context()
	connectorID := r.c.FormValue("connector")
	err := h.Links.Unlink(ctx, r.user.ID, connectorID)
	switch {
	case errors.Is(err, federation.ErrLastSignInMethod):
		return h.render(r, http.StatusConflict, sectionSecurity, map[string]string{"link": "You cannot unlink " +
			h.Links.Name(connectorID) + ": it is your only way to sign in. Set a password or add a passkey first."}, "")
	case errors.Is(err, identity.ErrNotFound):
		// Not one of this user's links, or unlinked already (a reload).
		return done(r, sectionSecurity, "")
	case err != nil:
		return err
	}
	h.audit(r, audit.ActionFederationUnlinked, audit.Details{"connector_id": connectorID})
	if h.Notifier != nil && r.user.Email != "" {
		m := identity.Mail{Kind: identity.MailLinkRemoved, To: r.user.Email, Name: r.user.GivenName, Directory: h.Links.Name(connectorID)}
		if m.Name == "" {
			m.Name = r.user.Username
		}
		if err := h.Notifier.SendMail(ctx, m); err != nil {
			h.Logger.ErrorContext(ctx, "queue notice", "user_id", r.user.ID, "kind", string(m.Kind), "error", err)
		}
	}
	return done(r, sectionSecurity, "link_removed")
}
