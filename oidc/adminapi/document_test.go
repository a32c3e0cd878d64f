package adminapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
)

// TestDocumentIsValidOpenAPI31 loads the document as served and checks
// it against OpenAPI 3.1's rules, and that every operation is guarded by
// one permission.
func TestDocumentIsValidOpenAPI31(t *testing.T) {
	d, err := loadDocument("https://id.example.com/")
	if err != nil {
		t.Fatal(err)
	}
	loader := openapi3.NewLoader()
	served, err := loader.LoadFromData(d.json)
	if err != nil {
		t.Fatalf("served document does not load: %v", err)
	}
	if !served.IsOpenAPI31OrLater() || served.OpenAPI != "3.1.0" {
		t.Fatalf("openapi = %q, want 3.1.0", served.OpenAPI)
	}
	if err := served.Validate(loader.Context); err != nil {
		t.Fatalf("served document is not valid: %v", err)
	}
	if got := served.Servers[0].URL; got != "https://id.example.com/admin/api/v1" {
		t.Errorf("server = %q", got)
	}
	flow := served.Components.SecuritySchemes["gatehouse"].Value.Flows.ClientCredentials
	if flow.TokenURL != "https://id.example.com/oauth2/token" {
		t.Errorf("tokenUrl = %q", flow.TokenURL)
	}
	if len(d.operations) < 20 {
		t.Fatalf("only %d operations indexed", len(d.operations))
	}
	for key, op := range d.operations {
		if op.scope == "" {
			t.Errorf("%s has no permission", key)
		}
	}
}

// TestEveryMountedRouteIsInTheDocument walks the routes echo serves under
// the API's prefix: each is an operation of the document (or the
// document itself, or the catch-all that answers 404), and each
// operation is mounted.
func TestEveryMountedRouteIsInTheDocument(t *testing.T) {
	e := echo.New()
	h := &Handler{Issuer: "https://id.example.com"}
	if err := h.Mount(e); err != nil {
		t.Fatal(err)
	}
	mounted := map[string]bool{}
	for _, r := range e.Routes() {
		if !strings.HasPrefix(r.Path, Path) {
			continue
		}
		key := r.Method + " " + r.Path
		switch {
		case r.Path == PathDocument && r.Method == http.MethodGet:
		case r.Path == Path || r.Path == Path+"/*":
			if r.Method != echo.RouteNotFound {
				t.Errorf("%s: a catch-all for a real method", key)
			}
		case h.doc.operations[key] == nil:
			t.Errorf("%s is served but not in openapi.yaml", key)
		default:
			mounted[key] = true
		}
	}
	for key := range h.doc.operations {
		if !mounted[key] {
			t.Errorf("%s is in openapi.yaml but not served", key)
		}
	}
}

// TestDocumentIsPublicJSON: no token is needed to read the document.
func TestDocumentIsPublicJSON(t *testing.T) {
	e := echo.New()
	h := &Handler{Issuer: "https://id.example.com"}
	if err := h.Mount(e); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, PathDocument, nil))
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("status %d, type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	var doc map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || doc["openapi"] != "3.1.0" {
		t.Fatalf("body is not the document: %v", err)
	}
}
