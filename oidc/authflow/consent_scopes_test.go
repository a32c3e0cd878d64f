package authflow

import (
	"testing"

	"gatehouse/oidc"
)

// TestConsentDescribesEveryScope: the consent page says in words what
// each scope a client may request lets it do, the roles scope included,
// rather than showing the bare scope name.
func TestConsentDescribesEveryScope(t *testing.T) {
	for _, s := range consentScopes(oidc.SupportedScopes) {
		if s.Description == "" || s.Description == s.Name {
			t.Errorf("scope %q has no description on the consent page", s.Name)
		}
	}
}
