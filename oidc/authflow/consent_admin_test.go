package authflow

import (
	"testing"

	"gatehouse/oidc"
)

// TestConsentDescribesAdminScopes: the consent page says in words what
// each admin scope lets an application do, never just its name.
func TestConsentDescribesAdminScopes(t *testing.T) {
	for _, s := range consentScopes(oidc.AdminScopes()) {
		if s.Description == "" || s.Description == s.Name {
			t.Errorf("admin scope %q has no description on the consent page", s.Name)
		}
	}
}
