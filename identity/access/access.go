package access

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"
)

// Permission is one thing the admin area lets a holder do.
type Permission string

// Permissions, "object:verb".
const (
	UsersRead    Permission = "users:read"
	UsersWrite   Permission = "users:write"
	UsersAdmin   Permission = "users:admin" // roles, deletion, second factors
	ClientsRead  Permission = "clients:read"
	ClientsWrite Permission = "clients:write"
	AuditRead    Permission = "audit:read"
	UsageRead    Permission = "usage:read"
)

// All lists every permission, in a fixed order.
func All() []Permission {
	return []Permission{UsersRead, UsersWrite, UsersAdmin, ClientsRead, ClientsWrite, AuditRead, UsageRead}
}

// Names of the built-in roles.
const (
	RoleUser    = "user"
	RoleManager = "manager"
	RoleAdmin   = "admin"
)

// Role is a named set of permissions. Built-in roles come from BuiltIns;
// custom ones from the roles table.
type Role struct {
	Name        string
	Description string
	Permissions []Permission
	CreatedAt   time.Time // zero for built-in roles
	BuiltIn     bool
}

// BuiltIns returns the roles defined in code: user grants no admin
// permission, manager only usage:read, admin all of them.
func BuiltIns() []Role {
	return []Role{
		{Name: RoleUser, Description: "A signed-in person, no admin permissions", BuiltIn: true},
		{Name: RoleManager, Description: "Sees usage figures", Permissions: []Permission{UsageRead}, BuiltIn: true},
		{Name: RoleAdmin, Description: "Every permission", Permissions: All(), BuiltIn: true},
	}
}

// BuiltIn returns the built-in role of that name.
func BuiltIn(name string) (Role, bool) {
	for _, r := range BuiltIns() {
		if r.Name == name {
			return r, true
		}
	}
	return Role{}, false
}

// Errors of the rules below; callers branch on them.
var (
	ErrInvalidName       = errors.New("access: invalid role name")
	ErrBuiltIn           = errors.New("access: built-in role")
	ErrUnknownPermission = errors.New("access: unknown permission")
)

var namePattern = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,63}$`)

// ValidateName checks a role name: lowercase, a letter first, then up to
// 63 letters, digits, '_' or '-'. The narrow alphabet keeps a name the
// same in JSON, in token claims and on the command line.
func ValidateName(name string) error {
	if !namePattern.MatchString(name) {
		return fmt.Errorf("%w %q: want a lowercase letter, then up to 63 of a-z, 0-9, _ and -", ErrInvalidName, name)
	}
	return nil
}

// ValidateCustom checks a custom role before it is stored: a valid name
// that is not a built-in one, and only known permissions, which it
// returns sorted in the order of All without repeats.
func ValidateCustom(r Role) (Role, error) {
	if err := ValidateName(r.Name); err != nil {
		return Role{}, err
	}
	if _, ok := BuiltIn(r.Name); ok {
		return Role{}, fmt.Errorf("%w %q cannot be redefined", ErrBuiltIn, r.Name)
	}
	perms, err := Normalize(r.Permissions)
	if err != nil {
		return Role{}, err
	}
	r.Permissions = perms
	r.BuiltIn = false
	return r, nil
}

// ParsePermission returns the permission named s.
func ParsePermission(s string) (Permission, error) {
	p := Permission(s)
	if !slices.Contains(All(), p) {
		return "", fmt.Errorf("%w %q", ErrUnknownPermission, s)
	}
	return p, nil
}

// Normalize refuses unknown permissions and returns the others in the
// order of All, each once.
func Normalize(perms []Permission) ([]Permission, error) {
	for _, p := range perms {
		if _, err := ParsePermission(string(p)); err != nil {
			return nil, err
		}
	}
	var out []Permission
	for _, p := range All() {
		if slices.Contains(perms, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// Set is a set of permissions.
type Set map[Permission]bool

// Has reports whether s holds p.
func (s Set) Has(p Permission) bool { return s[p] }

// List returns the permissions of s in the order of All.
func (s Set) List() []Permission {
	var out []Permission
	for _, p := range All() {
		if s[p] {
			out = append(out, p)
		}
	}
	return out
}

// PermissionsOf returns what the roles named grant together: built-in
// roles from code, the others from custom. A name found in neither
// (a custom role deleted since, say) grants nothing.
func PermissionsOf(roles []string, custom []Role) Set {
	s := Set{}
	for _, name := range roles {
		r, ok := BuiltIn(name)
		if !ok {
			i := slices.IndexFunc(custom, func(c Role) bool { return c.Name == name })
			if i < 0 {
				continue
			}
			r = custom[i]
		}
		for _, p := range r.Permissions {
			s[p] = true
		}
	}
	return s
}

// RolesWith returns the names of the roles, built-in and custom, that
// grant p.
func RolesWith(p Permission, custom []Role) []string {
	var out []string
	for _, r := range append(BuiltIns(), custom...) {
		if slices.Contains(r.Permissions, p) {
			out = append(out, r.Name)
		}
	}
	return out
}
