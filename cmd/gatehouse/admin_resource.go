package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"gatehouse/identity/audit"
)

// clientsResourceServer marks an existing client as a resource server, or
// with --off no longer one. Only the CLI can: dynamic registration never
// touches the flag.
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
	c, err := a.Store.Clients.GetClient(ctx, pos[0])
	if err != nil {
		return err
	}
	c.ResourceServer, c.ResourceAudience = !*off, nil
	if !*off {
		c.ResourceAudience = audience
	}
	c.UpdatedAt = time.Now().UTC()
	if err := a.Store.Clients.UpdateClient(ctx, c); err != nil {
		return err
	}
	if err := adminEvent(ctx, a, audit.ActionClientUpdated, c.ID, audit.Details{
		"resource_server": strconv.FormatBool(c.ResourceServer), "resource_audience": strings.Join(c.ResourceAudience, " "),
	}); err != nil {
		return err
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
