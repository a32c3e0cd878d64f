package clientreg_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"gorm.io/gorm"

	"gatehouse/identity/egress"
	"gatehouse/migrations/dbtest"
	"gatehouse/oidc/clientreg"
)

// internalDestinations are URLs an attacker registers to make the server
// fetch from or post into its own network.
var internalDestinations = []string{
	"http://127.0.0.1:6380/jwks",
	"http://localhost:6379/",
	"https://localhost/",
	"https://admin.localhost/",
	"https://10.0.0.1/",
	"https://192.168.0.10/",
	"https://169.254.169.254/latest/meta-data",
	"https://[::1]/",
	"https://[::ffff:127.0.0.1]/",
	"https://0.0.0.0/",
	"https://100.64.0.1/",
	"https://[fe80::1]/",
	"http://rp.example.com/backchannel",
	"ftp://rp.example.com/jwks",
}

// outboundBody is registration metadata whose field names url.
func outboundBody(t testing.TB, field, url string, extra string) string {
	t.Helper()
	u, _ := json.Marshal(url)
	body := fmt.Sprintf(`{"redirect_uris":["https://app.example.com/cb"],%q:%s`, field, u)
	if field == "jwks_uri" {
		body += `,"token_endpoint_auth_method":"private_key_jwt","token_endpoint_auth_signing_alg":"ES256"`
	}
	return body + extra + "}"
}

// TestRegisterRefusesInternalDestinations: dynamic registration refuses a
// jwks_uri or backchannel_logout_uri that would make the server call a
// loopback, private or link-local address, or call without TLS, with
// RFC 7591 §3.2.2 invalid_client_metadata, and stores nothing.
func TestRegisterRefusesInternalDestinations(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		s := newRegistrationServer(t, db, testInitialToken)
		for _, field := range []string{"jwks_uri", "backchannel_logout_uri"} {
			for _, dest := range internalDestinations {
				rec, got := s.do(t, http.MethodPost, clientreg.Path, testInitialToken, outboundBody(t, field, dest, ""))
				if rec.Code != http.StatusBadRequest || got.Error != "invalid_client_metadata" {
					t.Errorf("%s %s: status %d error %q (%s), want 400 invalid_client_metadata",
						field, dest, rec.Code, got.Error, got.ErrorDescription)
				}
			}
		}
		if stored, err := s.store.ListClients(t.Context()); err != nil || len(stored) != 0 {
			t.Errorf("refused registrations stored %d clients (%v)", len(stored), err)
		}
	})
}

// TestRegisterUpdateRefusesInternalDestinations: RFC 7592 updates are
// held to the same rule, and a refused update leaves the client as it was.
func TestRegisterUpdateRefusesInternalDestinations(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		s := newRegistrationServer(t, db, testInitialToken)
		reg := s.mustRegister(t, `{"redirect_uris":["https://app.example.com/cb"],"backchannel_logout_uri":"https://app.example.com/bc"}`)
		path := clientreg.Path + "/" + reg.ClientID
		for _, field := range []string{"jwks_uri", "backchannel_logout_uri"} {
			for _, dest := range []string{"http://127.0.0.1:6379/", "https://169.254.169.254/latest/meta-data", "https://[::ffff:10.0.0.1]/"} {
				rec, got := s.do(t, http.MethodPut, path, reg.RegistrationAccessToken,
					outboundBody(t, field, dest, `,"client_id":"`+reg.ClientID+`"`))
				if rec.Code != http.StatusBadRequest || got.Error != "invalid_client_metadata" {
					t.Errorf("PUT %s %s: status %d error %q, want 400 invalid_client_metadata", field, dest, rec.Code, got.Error)
				}
			}
		}
		stored, err := s.store.GetClient(t.Context(), reg.ClientID)
		if err != nil {
			t.Fatal(err)
		}
		if stored.BackchannelLogoutURI != "https://app.example.com/bc" || stored.JWKSURI != "" {
			t.Errorf("a refused update changed the client: backchannel %q, jwks_uri %q", stored.BackchannelLogoutURI, stored.JWKSURI)
		}
	})
}

// TestRegisterAllowsPrivateDestinationsWhenConfigured: with private
// networks allowed (development, tests) a local relying party registers.
func TestRegisterAllowsPrivateDestinationsWhenConfigured(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		s := newRegistrationServer(t, db, testInitialToken)
		s.h.Outbound = egress.Policy{AllowPrivateNetworks: true}
		got := s.mustRegister(t, outboundBody(t, "backchannel_logout_uri", "http://127.0.0.1:6380/bc", ""))
		if got.BackchannelLogoutURI != "http://127.0.0.1:6380/bc" {
			t.Errorf("backchannel_logout_uri = %q", got.BackchannelLogoutURI)
		}
		got = s.mustRegister(t, outboundBody(t, "jwks_uri", "https://[::1]:8443/jwks", ""))
		if got.JWKSURI != "https://[::1]:8443/jwks" {
			t.Errorf("jwks_uri = %q", got.JWKSURI)
		}
		rec, info := s.do(t, http.MethodPost, clientreg.Path, testInitialToken, outboundBody(t, "jwks_uri", "ftp://127.0.0.1/jwks", ""))
		if rec.Code != http.StatusBadRequest || info.Error != "invalid_client_metadata" {
			t.Errorf("ftp jwks_uri with private networks allowed: status %d error %q", rec.Code, info.Error)
		}
	})
}
