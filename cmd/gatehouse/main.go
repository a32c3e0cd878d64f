// Command gatehouse is the Gatehouse OpenID Provider: one binary that
// serves the provider and administers it.
//
//	gatehouse serve                 run the provider
//	gatehouse migrate up|status     manage the database schema
//	gatehouse clients ...           register and inspect OAuth clients
//	gatehouse users create          create a user (e.g. the first admin)
//	gatehouse keys list|rotate      inspect and rotate signing keys
//	gatehouse version               print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"gatehouse/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `Gatehouse: an OpenID Connect provider and user service.

Usage:
  gatehouse <command> [flags]

Commands:
  serve      run the provider (works with no configuration at all)
  migrate    apply or show database migrations: migrate up | migrate status
  clients    manage OAuth clients: create | list | show | update | rotate-secret | delete | ...
  users      manage users: create | set-roles | reset-password | unlock | ...
  roles      manage roles: list | create | delete
  keys       manage signing keys: list | rotate
  audit      check or list the audit trail: verify | list
  version    print the version

Every command takes --config FILE (YAML); GATEHOUSE_* environment
variables override the file. Run "gatehouse <command> --help" for details.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmds := map[string]func(context.Context, []string, io.Reader, io.Writer, io.Writer) error{
		"serve": cmdServe, "migrate": cmdMigrate, "clients": cmdClients, "users": cmdUsers, "keys": cmdKeys, "audit": cmdAudit,
		"roles": cmdRoles,
		"version": func(_ context.Context, args []string, _ io.Reader, _ io.Writer, _ io.Writer) error {
			if len(args) > 0 {
				fmt.Fprintln(stdout, "Usage: gatehouse version")
				return nil
			}
			fmt.Fprintln(stdout, "gatehouse", version)
			return nil
		},
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "gatehouse: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	err := cmd(ctx, args[1:], stdin, stdout, stderr)
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "gatehouse %s: %s\n", args[0], ue.msg)
		return 2
	default:
		fmt.Fprintf(stderr, "gatehouse %s: %v\n", args[0], err)
		return 1
	}
}

// usageError is a mistake in the command line (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// newFlags returns a flag set that prints help to stdout and takes --config.
func newFlags(name, help string, stdout io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	cfgPath := fs.String("config", "", "path to a YAML configuration file")
	fs.Usage = func() {
		fmt.Fprintf(stdout, "Usage: gatehouse %s\n\n%s\nFlags:\n", name, help)
		fs.PrintDefaults()
	}
	return fs, cfgPath
}

// loadConfig reads the file and environment and builds the logger.
func loadConfig(path string, stderr io.Writer) (*config.Config, *slog.Logger, error) {
	cfg, err := config.Load(path, os.LookupEnv)
	if err != nil {
		return nil, nil, err
	}
	return cfg, newLogger(cfg, stderr), nil
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Log.Level)) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if cfg.Log.Format == "text" {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(requestIDHandler{h})
}
