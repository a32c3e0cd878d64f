package adminapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"

	"gatehouse/identity/access"
)

// Path is where the API is mounted; the document's paths are relative to
// it.
const Path = "/admin/api/v1"

// PathDocument serves the OpenAPI document.
const PathDocument = Path + "/openapi.json"

// document is openapi.yaml, loaded and checked once, with what each
// operation needs at request time.
type document struct {
	spec *openapi3.T
	// json is the document as served: the OAuth URLs and the server made
	// absolute for this issuer.
	json []byte
	// operations are keyed by method and echo route path, e.g.
	// "GET /admin/api/v1/users/:id".
	operations map[string]*operation
}

// operation is one route of the document.
type operation struct {
	route *routers.Route
	// scope is the permission the route needs (its security requirement).
	scope access.Permission
}

// loadDocument parses and validates the embedded document and indexes
// its operations. It fails when an operation names no permission, or
// more than one: every route is guarded by exactly one.
func loadDocument(issuer string) (*document, error) {
	spec, err := GetSpec()
	if err != nil {
		return nil, fmt.Errorf("adminapi: load openapi.yaml: %w", err)
	}
	if err := spec.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("adminapi: openapi.yaml is not valid: %w", err)
	}
	d := &document{spec: spec, operations: map[string]*operation{}}
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			scope, err := operationScope(op)
			if err != nil {
				return nil, fmt.Errorf("adminapi: %s %s: %w", method, path, err)
			}
			d.operations[method+" "+Path+echoPath(path)] = &operation{
				route: &routers.Route{Spec: spec, Path: path, PathItem: item, Method: method, Operation: op},
				scope: scope,
			}
		}
	}
	if d.json, err = served(spec, issuer); err != nil {
		return nil, err
	}
	return d, nil
}

// allowed lists the methods the document has for path, a request path
// under Path: for a 405's Allow header.
func (d *document) allowed(path string) []string {
	var out []string
	for key := range d.operations {
		method, pattern, _ := strings.Cut(key, " ")
		if matchesPattern(pattern, path) && !slices.Contains(out, method) {
			out = append(out, method)
		}
	}
	slices.Sort(out)
	return out
}

// matchesPattern reports whether path fits an echo route pattern whose
// ":name" segments stand for any one non-empty segment.
func matchesPattern(pattern, path string) bool {
	want, got := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(want) != len(got) {
		return false
	}
	for i := range want {
		if strings.HasPrefix(want[i], ":") && got[i] != "" || want[i] == got[i] {
			continue
		}
		return false
	}
	return true
}

// operationScope is the one permission an operation's security
// requirement names.
func operationScope(op *openapi3.Operation) (access.Permission, error) {
	if op.Security == nil || len(*op.Security) != 1 {
		return "", fmt.Errorf("wants exactly one security requirement")
	}
	scopes := (*op.Security)[0]["gatehouse"]
	if len(scopes) != 1 {
		return "", fmt.Errorf("wants exactly one scope")
	}
	return access.ParsePermission(scopes[0])
}

// echoPath turns an OpenAPI path template into echo's: {id} into :id.
func echoPath(path string) string {
	r := strings.NewReplacer("{", ":", "}", "")
	return r.Replace(path)
}

// served is the document as JSON, with the server and the OAuth
// endpoints absolute, so that a client generator or a person reading it
// needs nothing else.
func served(spec *openapi3.T, issuer string) ([]byte, error) {
	raw, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	var copy openapi3.T
	if err := json.Unmarshal(raw, &copy); err != nil {
		return nil, err
	}
	issuer = strings.TrimSuffix(issuer, "/")
	copy.Servers = openapi3.Servers{{URL: issuer + Path}}
	if scheme := copy.Components.SecuritySchemes["gatehouse"]; scheme != nil && scheme.Value != nil && scheme.Value.Flows != nil {
		flows := scheme.Value.Flows
		for _, f := range []*openapi3.OAuthFlow{flows.ClientCredentials, flows.AuthorizationCode} {
			if f == nil {
				continue
			}
			if f.TokenURL != "" {
				f.TokenURL = issuer + f.TokenURL
			}
			if f.AuthorizationURL != "" {
				f.AuthorizationURL = issuer + f.AuthorizationURL
			}
		}
	}
	return json.MarshalIndent(&copy, "", "  ")
}

// serveDocument answers GET /admin/api/v1/openapi.json. The document is
// public: it describes what exists, never who or what is stored.
func (d *document) serveDocument(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(d.json)
}

// Operation is one route of the API as the document declares it.
type Operation struct {
	ID         string // operationId, as openapi.yaml spells it
	Method     string
	Path       string // relative to Path, with {parameters}
	Permission access.Permission
}

// Operations lists every operation of the document, for tests and tools
// that must cover each route.
func Operations() []Operation {
	d, err := loadDocument("http://localhost")
	if err != nil {
		panic(err) // the embedded document is checked by the tests
	}
	out := make([]Operation, 0, len(d.operations))
	for _, op := range d.operations {
		// The generator capitalises the ids of the embedded copy;
		// openapi.yaml spells them in lower camel case.
		id := op.route.Operation.OperationID
		id = strings.ToLower(id[:1]) + id[1:]
		out = append(out, Operation{ID: id, Method: op.route.Method, Path: op.route.Path, Permission: op.scope})
	}
	return out
}
