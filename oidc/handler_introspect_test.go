package oidc

import (
	"testing"

	"github.com/ory/fosite"
)

func TestMayIntrospect(t *testing.T) {
	app := &Client{ID: "app"}
	other := &Client{ID: "other"}
	api := &Client{ID: "api", ResourceServer: true, ResourceAudience: []string{"https://api.example.com"}}
	notRS := &Client{ID: "api2", ResourceAudience: []string{"https://api.example.com"}}
	token := func(aud ...string) fosite.Requester {
		return &fosite.Request{Client: app, GrantedAudience: aud}
	}
	for _, tc := range []struct {
		name   string
		caller *Client
		use    fosite.TokenUse
		token  fosite.Requester
		want   bool
	}{
		{"own access token", app, fosite.AccessToken, token("https://id.example.com"), true},
		{"own refresh token", app, fosite.RefreshToken, token(), true},
		{"another client's token", other, fosite.AccessToken, token("https://id.example.com"), false},
		{"resource server, its audience", api, fosite.AccessToken, token("https://api.example.com"), true},
		{"resource server, its client ID", api, fosite.AccessToken, token("https://id.example.com", "api"), true},
		{"resource server, another audience", api, fosite.AccessToken, token("https://id.example.com"), false},
		{"resource server, no audience", api, fosite.AccessToken, token(), false},
		{"resource server, refresh token", api, fosite.RefreshToken, token("https://api.example.com"), false},
		{"audience without the flag", notRS, fosite.AccessToken, token("https://api.example.com"), false},
	} {
		if got := mayIntrospect(tc.caller, tc.use, tc.token); got != tc.want {
			t.Errorf("%s: mayIntrospect = %t, want %t", tc.name, got, tc.want)
		}
	}
}
