package authflow

import (
	"strings"

	"gatehouse/identity/audit"
	"gatehouse/identity/mfa"
	"gatehouse/identity/usage"
)

// signedInDetails are the details of a login.succeeded entry: the amr and
// session as always, the client the flow serves (none for a sign-in on
// the page itself) and the method that completed the sign-in, which the
// usage figures count by (package identity/usage). Neither says more
// about the person than the entry's subject already does.
func signedInDetails(f *Flow, method string, amr []string, sessionID string) audit.Details {
	d := audit.Details{"amr": strings.Join(amr, " "), "session_id": sessionID, "method": method}
	if f != nil && f.ClientID != "" {
		d["client_id"] = f.ClientID
	}
	return d
}

// usageMethod names the method that completed a sign-in, as the usage
// figures count it: the last one used.
func usageMethod(used []mfa.Method) string {
	if len(used) == 0 {
		return usage.MethodPassword
	}
	switch used[len(used)-1].Kind {
	case mfa.MethodPasskey:
		return usage.MethodPasskey
	case mfa.MethodTOTP:
		return usage.MethodTOTP
	case mfa.MethodEmailCode, mfa.MethodSMSCode:
		return usage.MethodCode
	case mfa.MethodRecoveryCode:
		return usage.MethodRecovery
	default:
		return usage.MethodPassword
	}
}

// withClient adds the flow's client to a login.failed entry's details.
func withClient(d audit.Details, f *Flow) audit.Details {
	if f != nil && f.ClientID != "" {
		if d == nil {
			d = audit.Details{}
		}
		d["client_id"] = f.ClientID
	}
	return d
}
