package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"gatehouse/migrations/dbtest"
)

// cliCase is one gatehouse command and what it must answer.
type cliCase struct {
	name  string
	stdin string
	args  []string
	code  int
	// want are regular expressions the combined output must match.
	want []string
	// check, if set, inspects the output further.
	check func(t testing.TB, out string)
}

// checkCLI compares an exit code and output with what tc wants.
func checkCLI(t testing.TB, tc cliCase, out string, code int) {
	t.Helper()
	if code != tc.code {
		t.Errorf("gatehouse %s exited %d, want %d; output:\n%s", strings.Join(tc.args, " "), code, tc.code, out)
	}
	for _, re := range tc.want {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("gatehouse %s: output does not match %q:\n%s", strings.Join(tc.args, " "), re, out)
		}
	}
	if tc.check != nil && !t.Failed() {
		tc.check(t, out)
	}
}

// runCLI runs a command without a configuration file.
func runCLI(ctx context.Context, stdin string, args ...string) (string, int) {
	var out, errOut bytes.Buffer
	code := run(ctx, args, strings.NewReader(stdin), &out, &errOut)
	return out.String() + errOut.String(), code
}

// TestCLI runs the admin commands against a started server's
// configuration and database, and the commands that need neither on
// their own.
func TestCLI(t *testing.T) {
	t.Run("no database", testCLIWithoutDatabase)
	t.Run("serve with a bad config file", testCLIBadConfig)
	for _, d := range dbtest.Dialects {
		t.Run(d, func(t *testing.T) { testCLIDatabase(t, d) })
	}
}

func testCLIWithoutDatabase(t *testing.T) {
	usage := `Usage`
	tests := []cliCase{
		{name: "version", args: []string{"version"}, code: 0, want: []string{`^gatehouse \S+\n$`}},
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, want: []string{`unknown command "frobnicate"`, usage}},
		{name: "no command", args: nil, code: 2, want: []string{usage}},
		{name: "--help", args: []string{"--help"}, code: 0, want: []string{usage}},
		{name: "unknown clients subcommand", args: []string{"clients", "frobnicate"}, code: 2, want: []string{`frobnicate`}},
	}
	// The top-level usage promises `gatehouse <command> --help` for every
	// command, and each subcommand has its own flags.
	for _, args := range [][]string{
		{"serve"}, {"migrate"}, {"clients"}, {"users"}, {"keys"}, {"version"},
		{"migrate", "up"}, {"migrate", "status"},
		{"clients", "create"}, {"clients", "list"}, {"clients", "show"}, {"clients", "delete"},
		{"clients", "update"}, {"clients", "rotate-secret"},
		{"users", "create"}, {"users", "list"}, {"users", "search"}, {"keys", "list"}, {"keys", "rotate"},
	} {
		args = append(args, "--help")
		tests = append(tests, cliCase{name: strings.Join(args, " "), args: args, code: 0, want: []string{usage}})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, code := runCLI(t.Context(), tc.stdin, tc.args...)
			checkCLI(t, tc, out, code)
		})
	}
}

func testCLIBadConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "gatehouse.yaml")
	yaml := "issuer: ftp://login.example.com\n" +
		"listn: 127.0.0.1:0\n" +
		"data_dir: " + dir + "\n" +
		"tokens:\n" +
		"  acess_token_lifetime: 1h\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	// A cancelled context: were the file wrongly accepted, serve fails at
	// once instead of running until the test times out.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"serve", "--config", path}, strings.NewReader(""), &stdout, &stderr)
	tc := cliCase{args: []string{"serve", "--config", path}, code: 1, want: []string{
		`(?m)^\s*- issuer: .*https`,
		`(?m)^\s*- listn: unknown key`,
		`(?m)^\s*- tokens\.acess_token_lifetime: unknown key`,
	}}
	checkCLI(t, tc, stderr.String(), code)
	if stdout.Len() != 0 {
		t.Errorf("serve printed to stdout with a bad configuration:\n%s", stdout.String())
	}
}

var createdUserLine = regexp.MustCompile(`Created user (\S+) \((\S+)\)`)

func testCLIDatabase(t *testing.T, dialect string) {
	srv := startServer(t, dialect, nil)
	clientID, _ := srv.createClient(t, "--name", "Listed App", "--redirect-uri", rpCallback)
	id := regexp.QuoteMeta(clientID)

	tests := []cliCase{
		{
			name: "migrate status", args: []string{"migrate", "status"}, code: 0,
			want: []string{`(?m)^VERSION\s+STATE`, `(?m)^00001\s+applied\s`, `(?m)^00002\s+applied\s`},
			check: func(t testing.TB, out string) {
				if strings.Contains(out, "pending") {
					t.Errorf("migrate status on a started server lists pending migrations:\n%s", out)
				}
			},
		},
		{name: "migrate up when current", args: []string{"migrate", "up"}, code: 0, want: []string{`up to date`}},
		{name: "clients list", args: []string{"clients", "list"}, code: 0, want: []string{`(?m)^` + id + `\s+Listed App\s`}},
		{
			name: "clients show", args: []string{"clients", "show", clientID}, code: 0,
			check: func(t testing.TB, out string) {
				var got struct {
					ClientID     string   `json:"client_id"`
					ClientName   string   `json:"client_name"`
					RedirectURIs []string `json:"redirect_uris"`
				}
				if err := json.Unmarshal([]byte(out), &got); err != nil {
					t.Fatalf("clients show did not print JSON: %v\n%s", err, out)
				}
				want := got
				want.ClientID, want.ClientName, want.RedirectURIs = clientID, "Listed App", []string{rpCallback}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("clients show mismatch (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "clients update", args: []string{"clients", "update", clientID, "--name", "Renamed App", "--first-party"}, code: 0,
			want: []string{`Updated client ` + id},
		},
		{
			// The flags not given keep their values.
			name: "clients show after update", args: []string{"clients", "show", clientID}, code: 0,
			want: []string{`"client_name": "Renamed App"`, `"first_party": true`, `"redirect_uris": \[\s*"` + regexp.QuoteMeta(rpCallback) + `"`},
		},
		{
			name: "clients update with an http redirect to a public host",
			args: []string{"clients", "update", clientID, "--redirect-uri", "http://example.com/callback"}, code: 2,
			want: []string{`redirect_uri "http://example\.com/callback"`, `https`},
		},
		{name: "clients delete", args: []string{"clients", "delete", clientID}, code: 0, want: []string{`Deleted client ` + id}},
		{name: "clients show after delete", args: []string{"clients", "show", clientID}, code: 1, want: []string{`not found`}},
		{
			name: "clients create with an http redirect to a public host",
			args: []string{"clients", "create", "--name", "Bad", "--redirect-uri", "http://example.com/callback"}, code: 2,
			want: []string{`redirect_uri "http://example\.com/callback"`, `https`},
		},
		{
			name: "users create", stdin: testUserPassword + "\n",
			args: []string{"users", "create", "--username", "carol", "--email", "carol@example.com", "--role", "admin"}, code: 0,
			want:  []string{`Created user carol `},
			check: func(t testing.TB, out string) { checkCreatedUser(t, srv, out) },
		},
		{
			name: "users create with a common password", stdin: "password\n",
			args: []string{"users", "create", "--username", "dave", "--email", "dave@example.com"}, code: 2,
			want: []string{`not created`, `(?m)^\s+password: .*common`},
		},
		{
			name: "users create a second admin", stdin: testUserPassword + "\n",
			args: []string{"users", "create", "--username", "erin", "--email", "erin@example.net", "--role", "admin"}, code: 0,
			want: []string{`Created user erin `},
		},
		{
			name: "users search by substring ignores case", args: []string{"users", "search", "--q", "CAROL@EXAMPLE"}, code: 0,
			want: []string{`(?m)^ID\s+USERNAME\s+EMAIL`, `(?m)^\S+\s+carol\s+carol@example\.com\s+-\s+active\s+admin\s+\S+\s+\S+$`, `\(last page\)`},
			check: func(t testing.TB, out string) {
				if strings.Contains(out, "erin") {
					t.Errorf("search for carol lists erin:\n%s", out)
				}
			},
		},
		{
			name: "users search pages with the printed cursor", args: []string{"users", "search", "--role", "admin", "--sort", "username", "--limit", "1"}, code: 0,
			want:  []string{`(?m)^\S+\s+carol\s`, `(?m)^next cursor: \S+$`},
			check: func(t testing.TB, out string) { checkNextUserPage(t, srv, out) },
		},
		{name: "users list", args: []string{"users", "list", "--sort", "email", "--desc"}, code: 0, want: []string{`(?s)erin@example\.net.*carol@example\.com`}},
		{name: "users search limit 0", args: []string{"users", "search", "--limit", "0"}, code: 2, want: []string{`--limit`}},
		{name: "users search limit 10000", args: []string{"users", "search", "--limit", "10000"}, code: 2, want: []string{`--limit: `}},
		{name: "users search unknown sort", args: []string{"users", "search", "--sort", "password"}, code: 2, want: []string{`--sort: `}},
		{name: "users search bad cursor", args: []string{"users", "search", "--cursor", "eyJxIjoiIn0"}, code: 2, want: []string{`--cursor: `}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, code := adminCLI(t, srv, tc.stdin, tc.args...)
			checkCLI(t, tc, out, code)
		})
	}
	t.Run("config flag after the positional arguments", func(t *testing.T) { testCLIConfigLast(t, srv) })
	t.Run("roles", func(t *testing.T) { testCLIRoles(t, srv) })
	t.Run("lifecycle", func(t *testing.T) { testCLILifecycle(t, srv) })
	t.Run("last admin", func(t *testing.T) { testCLILastAdmin(t, srv) })
}

// adminCLI runs a command against the server's configuration with
// --config right after the command words, before any positional argument:
// Go's flag package stops parsing flags at the first positional argument.
func adminCLI(t testing.TB, srv *testServer, stdin string, args ...string) (string, int) {
	t.Helper()
	n := 1
	switch args[0] {
	case "clients", "users", "keys":
		n = min(2, len(args))
	}
	full := append(append(slices.Clone(args[:n]), "--config", srv.ConfigPath), args[n:]...)
	return runCLI(context.Background(), stdin, full...)
}

// testCLIConfigLast: the usage lines document `--config FILE` after the
// positional arguments (`clients show [ID] [--config FILE]`), and srv.cli
// and many users write it there. It must be honoured, and above all a
// command must never run against the built-in development configuration
// instead: a database and a freshly generated master key in ./data.
func testCLIConfigLast(t *testing.T, srv *testServer) {
	clientID, _ := srv.createClient(t, "--name", "Config Last", "--redirect-uri", rpCallback)
	id := regexp.QuoteMeta(clientID)
	tests := []cliCase{
		{name: "migrate status", args: []string{"migrate", "status"}, code: 0, want: []string{`(?m)^00001\s+applied\s`, `(?m)^00002\s+applied\s`}},
		{name: "clients show", args: []string{"clients", "show", clientID}, code: 0, want: []string{`"client_id": "` + id + `"`}},
		{name: "clients delete", args: []string{"clients", "delete", clientID}, code: 0, want: []string{`Deleted client ` + id}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			out, code := srv.cli(t, tc.stdin, tc.args...) // --config FILE last
			checkCLI(t, tc, out, code)
			if _, err := os.Stat(filepath.Join(dir, "data")); err == nil {
				t.Errorf("gatehouse %s --config FILE ignored the file and created ./data with the development configuration", strings.Join(tc.args, " "))
			}
		})
	}
}

// checkCreatedUser checks the stored user that `users create` reported
// and signs in as that user through the hosted login.
func checkCreatedUser(t testing.TB, srv *testServer, out string) {
	t.Helper()
	m := createdUserLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no user ID in %q", out)
	}
	u, err := srv.App.Identity.Accounts.GetUser(t.Context(), m[2])
	if err != nil {
		t.Fatalf("GetUser(%s): %v", m[2], err)
	}
	type user struct {
		Username, Email string
		Roles           []string
	}
	want := user{Username: "carol", Email: "carol@example.com", Roles: []string{"admin"}}
	if diff := cmp.Diff(want, user{u.Username, u.Email, u.Roles}); diff != "" {
		t.Errorf("created user mismatch (-want +got):\n%s", diff)
	}

	portalID, portalSecret := srv.createClient(t, "--name", "Portal", "--redirect-uri", rpCallback, "--first-party")
	rp := newRelyingParty(t, srv.URL, portalID, portalSecret)
	verifier := oauth2.GenerateVerifier()
	q := signIn(t, newBrowser(t, rpCallback), rp.OAuth.AuthCodeURL("state-cli-0123456789", oauth2.S256ChallengeOption(verifier)), "carol", false)
	idt, err := rp.Verifier.Verify(t.Context(), exchangeIDToken(t, rp, q.Get("code"), verifier))
	if err != nil {
		t.Fatalf("ID token for carol does not verify: %v", err)
	}
	if idt.Subject != u.ID {
		t.Errorf("signed in as %q, want carol (%s)", idt.Subject, u.ID)
	}
}

var nextCursorLine = regexp.MustCompile(`(?m)^next cursor: (\S+)$`)

// checkNextUserPage follows the cursor `users search` printed to the
// last page.
func checkNextUserPage(t testing.TB, srv *testServer, out string) {
	t.Helper()
	m := nextCursorLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no next cursor in %q", out)
	}
	next, code := adminCLI(t, srv, "", "users", "search", "--role", "admin", "--sort", "username", "--limit", "1", "--cursor", m[1])
	checkCLI(t, cliCase{args: []string{"users", "search", "--cursor", m[1]}, code: 0,
		want: []string{`(?m)^\S+\s+erin\s+erin@example\.net`, `\(last page\)`}}, next, code)
	if strings.Contains(next, "carol") {
		t.Errorf("second page repeats carol:\n%s", next)
	}
}
