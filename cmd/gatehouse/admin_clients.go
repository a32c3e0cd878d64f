package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"gatehouse/identity"
	"gatehouse/oidc"
	"gatehouse/oidc/clientreg"
)

const clientsHelp = `Usage: gatehouse clients <subcommand> [flags]

Subcommands:
  create --name NAME [flags]   register a client (see clients create --help)
  list                         list clients
  show ID                      print a client's metadata as JSON
  update ID [flags]            change the values the flags name (see clients update --help)
  rotate-secret ID             give a confidential client a new secret, shown once
  resource-server ID           let a client introspect tokens meant for it (see --help)
  delete ID                    delete a client and every token issued to it
`

// The client commands call a.Clients (clientreg.Admin) as the operator,
// like the admin API calls it for its callers: the rules live there.
func cmdClients(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	if isHelp(args) {
		fmt.Fprint(stdout, clientsHelp)
		return nil
	}
	if len(args) == 0 {
		return usageError{"want `clients create|list|show ID|update ID|rotate-secret ID|resource-server ID|delete ID` (add --help for flags)"}
	}
	switch args[0] {
	case "create":
		return clientsCreate(ctx, args[1:], stdout, stderr)
	case "update":
		return clientsUpdate(ctx, args[1:], stdout, stderr)
	case "resource-server":
		return clientsResourceServer(ctx, args[1:], stdout, stderr)
	case "list", "show", "delete", "rotate-secret":
		fs, cfgPath := newFlags("clients "+args[0]+" [ID] [--config FILE]", "Lists, shows or deletes OAuth clients, or rotates a client's secret.", stdout)
		pos, err := parseInterspersed(fs, args[1:])
		if err != nil {
			return err
		}
		if (args[0] == "list" && len(pos) != 0) || (args[0] != "list" && len(pos) != 1) {
			return usageError{"`clients list` takes no ID; `clients " + args[0] + "` takes exactly one"}
		}
		a, err := openAdmin(ctx, *cfgPath, stderr)
		if err != nil {
			return err
		}
		defer a.Close()
		switch args[0] {
		case "list":
			return clientsList(ctx, a, stdout)
		case "show":
			return clientsShow(ctx, a, pos[0], stdout)
		case "rotate-secret":
			secret, err := a.Clients.RotateSecret(ctx, identity.OperatorActor, pos[0])
			if errors.Is(err, clientreg.ErrNoSecret) {
				return usageError{"client " + pos[0] + " authenticates without a client secret (public or private_key_jwt): there is none to rotate"}
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "client_secret: %s\n(store the secret now: it cannot be shown again; the old one no longer works)\n", secret)
			return nil
		default:
			if err := a.Clients.Delete(ctx, identity.OperatorActor, pos[0]); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "Deleted client %s and every token issued to it.\n", pos[0])
			return nil
		}
	}
	return usageError{fmt.Sprintf("unknown subcommand %q", args[0])}
}

func clientsList(ctx context.Context, a *App, stdout io.Writer) error {
	list, err := a.Clients.List(ctx, identity.OperatorActor)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLIENT ID\tNAME\tTYPE\tAUTH METHOD\tGRANTS")
	for _, c := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.ID, c.ClientName, c.ApplicationType, c.TokenEndpointAuthMethod, strings.Join(c.GrantTypes, ","))
	}
	return tw.Flush()
}

func clientsShow(ctx context.Context, a *App, id string, stdout io.Writer) error {
	c, err := a.Clients.Get(ctx, identity.OperatorActor, id)
	if err != nil {
		return err
	}
	out := struct {
		ClientID         string   `json:"client_id"`
		FirstParty       bool     `json:"first_party"`
		Audience         []string `json:"audience,omitempty"`
		ResourceServer   bool     `json:"resource_server"`
		ResourceAudience []string `json:"resource_audience,omitempty"`
		clientreg.Metadata
	}{c.ID, c.FirstParty, c.Audience, c.ResourceServer, c.ResourceAudience, clientreg.MetadataOf(c)}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// clientFlags are the flags of clients create and clients update.
type clientFlags struct {
	fs                                                *flag.FlagSet
	redirects, logoutRedirects, grants                listFlag
	audience, resourceAudience                        listFlag
	name, backchannel, scope, authMethod              *string
	public, native, firstParty, jwtAT, resourceServer *bool
}

func newClientFlags(fs *flag.FlagSet) *clientFlags {
	f := &clientFlags{fs: fs}
	fs.Var(&f.redirects, "redirect-uri", "allowed redirect URI (repeatable)")
	fs.Var(&f.logoutRedirects, "post-logout-redirect-uri", "allowed post-logout redirect URI (repeatable)")
	fs.Var(&f.grants, "grant-type", "authorization_code, refresh_token or client_credentials (repeatable; default authorization_code + refresh_token)")
	f.name = fs.String("name", "", "client name shown to users")
	f.backchannel = fs.String("backchannel-logout-uri", "", "where to post a logout token when a user's session ends (Back-Channel Logout 1.0)")
	f.scope = fs.String("scope", "openid profile email phone address offline_access", "scopes the client may request; admin scopes (users:read, users:write, users:admin, clients:read, clients:write, audit:read, usage:read) are allowed only here")
	f.authMethod = fs.String("auth-method", "", "client_secret_basic (default), client_secret_post, private_key_jwt or none")
	f.public = fs.Bool("public", false, "a public client without a secret (same as --auth-method none); PKCE is required")
	f.native = fs.Bool("native", false, "a native app (application_type native: loopback ports and private-use schemes)")
	f.firstParty = fs.Bool("first-party", false, "skip the consent page for this client")
	f.jwtAT = fs.Bool("jwt-access-tokens", false, "issue RFC 9068 JWT access tokens instead of opaque ones")
	fs.Var(&f.audience, "audience", "a resource (audience) the client may ask tokens for (repeatable)")
	f.resourceServer = fs.Bool("resource-server", false, "a resource server: may introspect tokens whose audience holds its client ID or a --resource-audience")
	fs.Var(&f.resourceAudience, "resource-audience", "an audience value naming this resource server (repeatable; implies --resource-server)")
	return f
}

// applyTo sets on in the values of the flags given (all of them with
// every=true, for a new client); a repeated flag replaces the list.
func (f *clientFlags) applyTo(in *clientreg.ClientInput, every bool) {
	set := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	given := func(name string) bool { return every || set[name] }
	if given("grant-type") {
		in.GrantTypes = f.grants
		if len(in.GrantTypes) == 0 {
			in.GrantTypes = []string{"authorization_code", "refresh_token"}
		}
		in.ResponseTypes = []string{}
		if slices.Contains(in.GrantTypes, "authorization_code") {
			in.ResponseTypes = []string{"code"}
		}
	}
	strs := []struct {
		flag  string
		to    *string
		value string
	}{{"name", &in.ClientName, *f.name}, {"backchannel-logout-uri", &in.BackchannelLogoutURI, *f.backchannel},
		{"scope", &in.Scope, *f.scope}, {"auth-method", &in.TokenEndpointAuthMethod, *f.authMethod}}
	for _, s := range strs {
		if given(s.flag) {
			*s.to = s.value
		}
	}
	lists := []struct {
		flag  string
		to    *[]string
		value listFlag
	}{{"redirect-uri", &in.RedirectURIs, f.redirects}, {"post-logout-redirect-uri", &in.PostLogoutRedirectURIs, f.logoutRedirects},
		{"audience", &in.Audience, f.audience}, {"resource-audience", &in.ResourceAudience, f.resourceAudience}}
	for _, l := range lists {
		if given(l.flag) {
			*l.to = l.value
		}
	}
	if *f.public {
		in.TokenEndpointAuthMethod = oidc.AuthMethodNone
	}
	if given("native") {
		in.ApplicationType = pick(*f.native, oidc.AppTypeNative, oidc.AppTypeWeb)
	}
	if given("jwt-access-tokens") {
		in.AccessTokenFormat = pick(*f.jwtAT, oidc.TokenFormatJWT, oidc.TokenFormatOpaque)
	}
	if given("first-party") {
		in.FirstParty = *f.firstParty
	}
	if given("resource-server") || given("resource-audience") {
		in.ResourceServer = *f.resourceServer || len(in.ResourceAudience) > 0
	}
}

func pick(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

func clientsCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("clients create --name NAME [flags]",
		"Registers an OAuth client and prints its ID and (for confidential clients) its\nsecret. The secret is shown once: only a keyed hash of it is stored.", stdout)
	f := newClientFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	var in clientreg.ClientInput
	f.applyTo(&in, true)
	a, err := openAdmin(ctx, *cfgPath, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	c, secret, err := a.Clients.Create(ctx, identity.OperatorActor, in)
	if err != nil {
		return clientInputError(err)
	}
	fmt.Fprintf(stdout, "client_id:     %s\n", c.ID)
	if secret != "" {
		fmt.Fprintf(stdout, "client_secret: %s\n(store the secret now: it cannot be shown again)\n", secret)
	}
	return nil
}

func clientsUpdate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("clients update ID [flags]",
		"Changes the values the flags name and keeps the others; a repeated flag\n(--redirect-uri, --grant-type, …) replaces the whole list. The ID and the\nsecret stay (see clients rotate-secret).", stdout)
	f := newClientFlags(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"`clients update` takes exactly one client ID"}
	}
	a, err := openAdmin(ctx, *cfgPath, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	c, err := a.Clients.Get(ctx, identity.OperatorActor, pos[0])
	if err != nil {
		return err
	}
	in := clientreg.InputOf(c)
	f.applyTo(&in, false)
	if _, err := a.Clients.Update(ctx, identity.OperatorActor, c.ID, in); err != nil {
		return clientInputError(err)
	}
	fmt.Fprintf(stdout, "Updated client %s.\n", c.ID)
	return nil
}

// clientInputError turns refused metadata into a usage error.
func clientInputError(err error) error {
	var me *clientreg.MetadataError
	if errors.As(err, &me) {
		return usageError{me.Description}
	}
	return err
}
