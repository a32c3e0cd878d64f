package main

import (
	"context"
	"fmt"
	"io"
	"net"
)

func cmdServe(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("serve [--config FILE]", "Runs the provider. With no configuration it starts a development\nsetup: issuer http://localhost:8080, SQLite in ./data, a generated master key.", stdout)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, log, err := loadConfig(*cfgPath, stderr)
	if err != nil {
		return err
	}
	a, err := openServer(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	tuneRuntime(ctx, cfg, a.Users.Hasher, log)
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	log.Info("gatehouse started", "version", version, "listen", ln.Addr().String(), "issuer", cfg.Issuer)
	if cfg.DevelopmentMode() {
		fmt.Fprintf(stdout, "\n*** DEVELOPMENT SETUP: the master key was generated and is kept in %s.\n"+
			"*** Anyone who can read that directory can decrypt the signing keys. For production set\n"+
			"*** GATEHOUSE_MASTER_KEY (openssl rand -base64 32), an https issuer and PostgreSQL.\n", cfg.DataDir)
	}
	fmt.Fprintf(stdout, "\nGatehouse is running.\n  Sign in or create an account: %s/\n  Discovery:                    %s/.well-known/openid-configuration\n\n", cfg.Issuer, cfg.Issuer)
	return a.Serve(ctx, ln)
}
