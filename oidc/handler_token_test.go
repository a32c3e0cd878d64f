package oidc

import (
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ory/fosite"
)

func TestGrantLifetime(t *testing.T) {
	clock := newStepClock()
	start := clock.Now()
	h := tokenEndpoint{&Handler{Provider: &Provider{GrantLifetime: 2 * time.Hour}, Now: clock.Now}}
	request := func(sess *Session) *fosite.AccessRequest {
		ar := fosite.NewAccessRequest(sess)
		ar.GrantedScope = fosite.Arguments{"openid", "offline_access"}
		return ar
	}

	// Redeeming the code dates the grant and caps the refresh token.
	sess := NewSession()
	sess.SetExpiresAt(fosite.RefreshToken, start.Add(720*time.Hour))
	h.startGrant(request(sess))
	if !sess.GrantedAt.Equal(start) {
		t.Fatalf("GrantedAt = %v, want %v", sess.GrantedAt, start)
	}
	end := start.Add(2 * time.Hour)
	if got := sess.GetExpiresAt(fosite.RefreshToken); !got.Equal(end) {
		t.Errorf("refresh token expiry = %v, want the grant's end %v", got, end)
	}

	// A refresh within the lifetime is capped again; at the end it fails.
	clock.Advance(119 * time.Minute)
	sess.SetExpiresAt(fosite.RefreshToken, clock.Now().Add(720*time.Hour))
	if err := h.continueGrant(t.Context(), request(sess)); err != nil {
		t.Fatalf("refresh before the end: %v", err)
	}
	if got := sess.GetExpiresAt(fosite.RefreshToken); !got.Equal(end) {
		t.Errorf("rotated refresh token expiry = %v, want the grant's end %v", got, end)
	}
	// The idle lifetime applies while it ends sooner than the grant.
	idle := clock.Now().Add(30 * time.Second)
	sess.SetExpiresAt(fosite.RefreshToken, idle)
	if err := h.continueGrant(t.Context(), request(sess)); err != nil || !sess.GetExpiresAt(fosite.RefreshToken).Equal(idle) {
		t.Errorf("refresh with an earlier idle expiry: %v, expiry %v, want %v", err, sess.GetExpiresAt(fosite.RefreshToken), idle)
	}
	clock.Advance(time.Minute)
	err := h.continueGrant(t.Context(), request(sess))
	if rfc := fosite.ErrorToRFC6749Error(err); err == nil || rfc.ErrorField != "invalid_grant" {
		t.Errorf("refresh at the grant's end = %v, want invalid_grant", err)
	}
}

func TestNarrowScope(t *testing.T) {
	for _, tc := range []struct {
		name      string
		scope     string
		wantErr   string
		wantScope fosite.Arguments
		wantGrant []string
	}{
		{"no scope", "", "", fosite.Arguments{"openid", "profile", "offline_access"}, nil},
		{"narrower", "openid profile", "", fosite.Arguments{"openid", "profile"}, []string{"openid", "profile", "offline_access"}},
		{"same", "offline_access profile openid", "", fosite.Arguments{"offline_access", "profile", "openid"}, []string{"openid", "profile", "offline_access"}},
		{"repeated", "openid profile openid", "", fosite.Arguments{"openid", "profile"}, []string{"openid", "profile", "offline_access"}},
		{"broader", "openid profile email", "invalid_scope", nil, nil},
		{"other", "phone", "invalid_scope", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sess := NewSession()
			ar := fosite.NewAccessRequest(sess)
			ar.Form = url.Values{"scope": {tc.scope}}
			ar.GrantedScope = fosite.Arguments{"openid", "profile", "offline_access"}
			err := narrowScope(ar, sess)
			if tc.wantErr != "" {
				if rfc := fosite.ErrorToRFC6749Error(err); err == nil || rfc.ErrorField != tc.wantErr {
					t.Errorf("narrowScope = %v, want %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("narrowScope = %v", err)
			}
			if diff := cmp.Diff(tc.wantScope, ar.GrantedScope); diff != "" {
				t.Errorf("granted scope mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantGrant, sess.GrantScope); diff != "" {
				t.Errorf("grant scope mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
