package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"gatehouse/identity"
	"gatehouse/oidc/clientreg"
)

// clientsResourceServer marks an existing client as a resource server, or
// with --off no longer one. Only administrators can: dynamic registration
// never touches the flag.
func clientsResourceServer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("clients resource-server ID [--resource-audience URI]... [--off]",
		"Lets a client introspect access tokens whose audience holds its client ID or one of\n"+
			"its resource audiences (which replace any earlier ones); --off withdraws that.", stdout)
	var audience listFlag
	fs.Var(&audience, "resource-audience", "an audience value naming this resource server (repeatable)")
	off := fs.Bool("off", false, "the client is no longer a resource server")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"`clients resource-server` takes exactly one client ID"}
	}
	if *off && len(audience) > 0 {
		return usageError{"--off takes no --resource-audience"}
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
	in.ResourceServer, in.ResourceAudience = !*off, nil
	if !*off {
		in.ResourceAudience = audience
	}
	if c, err = a.Clients.Update(ctx, identity.OperatorActor, c.ID, in); err != nil {
		return clientInputError(err)
	}
	if *off {
		fmt.Fprintf(stdout, "Client %s is no longer a resource server.\n", c.ID)
		return nil
	}
	fmt.Fprintf(stdout, "Client %s is a resource server for its client ID%s.\n", c.ID, audiencePhrase(c.ResourceAudience))
	return nil
}

func audiencePhrase(aud []string) string {
	if len(aud) == 0 {
		return ""
	}
	return " and " + strings.Join(aud, ", ")
}
