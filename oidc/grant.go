package oidc

import (
	"slices"
	"strings"
	"time"

	"github.com/ory/fosite"
)

// startGrant records when a grant begins, as its code is redeemed, and
// bounds the first refresh token by the grant's absolute lifetime.
func (h *Handler) startGrant(ar fosite.AccessRequester) {
	sess, ok := ar.GetSession().(*Session)
	if !ok {
		return
	}
	if sess.GrantedAt.IsZero() {
		sess.GrantedAt = h.Now().UTC()
	}
	h.capRefresh(sess)
}

// continueGrant applies the grant rules to a refresh request that fosite
// has validated, before anything is rotated: the grant must be within its
// absolute lifetime, and a requested scope may narrow the new access
// token but not go beyond the grant (RFC 6749 §6).
func (h *Handler) continueGrant(ar fosite.AccessRequester) error {
	sess, ok := ar.GetSession().(*Session)
	if !ok {
		return nil
	}
	if sess.GrantedAt.IsZero() {
		// A grant from before grants were dated starts its clock now.
		sess.GrantedAt = h.Now().UTC()
	}
	if life := h.Provider.GrantLifetime; life > 0 && !h.Now().Before(sess.GrantedAt.Add(life)) {
		return fosite.ErrInvalidGrant.WithHint("The grant has reached its maximum lifetime; the user must authorize again.")
	}
	h.capRefresh(sess)
	return narrowScope(ar, sess)
}

// capRefresh keeps the next refresh token from outliving the grant: the
// idle lifetime fosite set applies only while it ends sooner.
func (h *Handler) capRefresh(sess *Session) {
	life := h.Provider.GrantLifetime
	if life <= 0 {
		return
	}
	end := sess.GrantedAt.Add(life).UTC().Round(time.Second)
	if exp := sess.GetExpiresAt(fosite.RefreshToken); exp.IsZero() || exp.After(end) {
		sess.SetExpiresAt(fosite.RefreshToken, end)
	}
}

// narrowScope honours the scope parameter of a refresh request. fosite
// grants the original scope whatever was asked; RFC 6749 §6 says a
// requested scope MUST NOT include any scope not originally granted, and
// when narrower applies to the new access token while the refresh token
// keeps the grant's scope (kept in the session for the store).
func narrowScope(ar fosite.AccessRequester, sess *Session) error {
	requested := strings.Fields(ar.GetRequestForm().Get("scope"))
	if len(requested) == 0 {
		return nil
	}
	grant := ar.GetGrantedScopes()
	for _, s := range requested {
		if !slices.Contains(grant, s) {
			return fosite.ErrInvalidScope.WithHintf("The scope '%s' was not granted; a refresh may only narrow the scope.", s)
		}
	}
	req, ok := ar.(*fosite.AccessRequest)
	if !ok {
		return nil
	}
	sess.GrantScope = slices.Clone([]string(grant))
	var narrowed fosite.Arguments
	for _, s := range requested {
		if !slices.Contains(narrowed, s) {
			narrowed = append(narrowed, s)
		}
	}
	req.GrantedScope = narrowed
	return nil
}
