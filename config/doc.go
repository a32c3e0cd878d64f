// Package config owns Gatehouse's configuration: the schema, its defaults,
// environment overrides and validation.
//
// Load runs the whole flow in a fixed order:
//
//  1. start from the built-in defaults (Default);
//  2. decode the YAML file over them, rejecting unknown keys;
//  3. apply GATEHOUSE_* environment variables;
//  4. fill derived defaults (database.url from data_dir) and normalise
//     (the issuer loses its trailing slash);
//  5. Validate.
//
// Every problem found on the way, in the file, in the environment or by a
// rule, is collected into one *Error so that an operator fixes them all in
// one pass. Each problem names its key as a dotted YAML path
// (tokens.access_token_lifetime) or, for the environment, the variable.
//
// Environment variables are derived from the YAML tags: every scalar key is
// GATEHOUSE_ followed by its upper-cased dotted path with dots replaced by
// underscores (GATEHOUSE_TOKENS_ACCESS_TOKEN_LIFETIME). Lists are
// comma-separated. A few aliases exist for names operators expect
// (GATEHOUSE_DCR_INITIAL_ACCESS_TOKEN, GATEHOUSE_SMTP_URL); redis.url's
// canonical name is already the familiar GATEHOUSE_REDIS_URL.
//
// Rate limits (rate_limits.*) are strings "N/duration" ("30/1m"), read by
// Rate.Parse; cmd turns them into the limiter's rules. An empty redis.url
// keeps the counters in each process.
//
// The master key, the initial access token, the SMS webhook secret, the
// Twilio auth token and the CAPTCHA secret key are of type Secret, and so
// are database.url, email.smtp_url, sms.webhook_url and redis.url, whose
// passwords are the secret. A Secret never appears in an error and redacts
// itself whenever it is formatted, printed, logged or encoded as JSON, on
// its own or inside any section; the code that uses it calls Reveal.
// Redacted returns a copy of a Config with every Secret replaced by its
// redacted form.
//
// Only cmd/ imports this package; it turns the sections into constructor
// inputs for the rest of the program.
package config
