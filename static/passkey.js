// passkey.js makes the WebAuthn calls (navigator.credentials) of
// Gatehouse's passkey forms and posts the result through the form itself,
// so the server answers as for any other form. No library, no third party.
//
// Markup it expects (the templates render it):
//
//   <form method="post" action="…" data-passkey="register|assert|login"
//         data-passkey-options="/…/options" hidden>
//     <input type="hidden" name="csrf" value="…">
//     <input type="hidden" name="flow" value="…">        (optional)
//     <input type="hidden" name="ceremony">
//     <input type="hidden" name="credential">
//     <p data-passkey-error role="alert"></p>             (optional)
//     <button type="submit">…</button>
//   </form>
//   <p data-passkey-fallback>Passkeys need JavaScript …</p>
//
// The forms stay hidden, and the fallback notes shown, unless the browser
// has WebAuthn with its JSON helpers (parseCreationOptionsFromJSON,
// parseRequestOptionsFromJSON, toJSON). Submitting a form asks the server
// for a fresh ceremony's options (POST data-passkey-options with the CSRF
// token, answered {"ceremony": "…", "publicKey": {…}}), runs the ceremony
// and submits the form with the ceremony and the credential as JSON.
//
// A "login" form also starts, on page load, a conditional request
// (mediation "conditional"): the browser offers the site's passkeys in the
// username field's autofill (autocomplete="username webauthn"). Any modal
// request first aborts the pending conditional one: a browser runs one
// WebAuthn request at a time.
(function () {
  'use strict';

  var PKC = window.PublicKeyCredential;
  if (!PKC || !navigator.credentials || typeof PKC.parseCreationOptionsFromJSON !== 'function' ||
      typeof PKC.parseRequestOptionsFromJSON !== 'function' || typeof window.fetch !== 'function') {
    return; // the forms stay hidden and the fallback notes say why
  }

  var forms = document.querySelectorAll('form[data-passkey]');
  var fallbacks = document.querySelectorAll('[data-passkey-fallback]');
  var i;
  for (i = 0; i < fallbacks.length; i++) {
    fallbacks[i].hidden = true;
  }

  // pending is the AbortController of the conditional request, if any.
  var pending = null;

  function abortPending() {
    if (pending) {
      pending.abort();
      pending = null;
    }
  }

  function field(form, name) {
    return form.querySelector('input[name="' + name + '"]');
  }

  function showError(form, message) {
    var el = form.querySelector('[data-passkey-error]');
    if (el) {
      el.textContent = message;
    }
  }

  // begin asks the server for a new ceremony.
  function begin(form) {
    var body = new URLSearchParams();
    ['csrf', 'flow'].forEach(function (name) {
      var f = field(form, name);
      if (f && f.value) {
        body.set(name, f.value);
      }
    });
    return fetch(form.getAttribute('data-passkey-options'), {
      method: 'POST',
      body: body,
      credentials: 'same-origin',
      headers: { 'Accept': 'application/json' }
    }).then(function (resp) {
      if (!resp.ok) {
        throw new Error('the server did not start the ceremony');
      }
      return resp.json();
    });
  }

  // finish posts the credential through the form.
  function finish(form, ceremony, credential) {
    field(form, 'ceremony').value = ceremony;
    field(form, 'credential').value = JSON.stringify(credential.toJSON());
    form.submit();
  }

  function failed(form, err) {
    if (err && err.name === 'AbortError') {
      return;
    }
    var register = form.getAttribute('data-passkey') === 'register';
    if (err && err.name === 'InvalidStateError' && register) {
      showError(form, 'This passkey is already added to your account.');
    } else if (err && err.name === 'NotAllowedError') {
      showError(form, 'The passkey was not used. Try again when you are ready.');
    } else {
      showError(form, register ? 'The passkey could not be added. Reload the page and try again.'
        : 'Signing in with a passkey did not work. Reload the page and try again.');
    }
    form.removeAttribute('aria-busy');
  }

  function run(form) {
    abortPending();
    showError(form, '');
    form.setAttribute('aria-busy', 'true');
    var kind = form.getAttribute('data-passkey');
    begin(form).then(function (o) {
      var call = kind === 'register'
        ? navigator.credentials.create({ publicKey: PKC.parseCreationOptionsFromJSON(o.publicKey) })
        : navigator.credentials.get({ publicKey: PKC.parseRequestOptionsFromJSON(o.publicKey) });
      return call.then(function (credential) {
        finish(form, o.ceremony, credential);
      });
    }).catch(function (err) {
      failed(form, err);
    });
  }

  // conditional offers the site's passkeys in the username autofill.
  function conditional(form) {
    if (typeof PKC.isConditionalMediationAvailable !== 'function') {
      return;
    }
    PKC.isConditionalMediationAvailable().then(function (available) {
      if (!available || pending) {
        return;
      }
      var controller = new AbortController();
      pending = controller;
      begin(form).then(function (o) {
        if (controller.signal.aborted) {
          return;
        }
        return navigator.credentials.get({
          publicKey: PKC.parseRequestOptionsFromJSON(o.publicKey),
          mediation: 'conditional',
          signal: controller.signal
        }).then(function (credential) {
          if (credential) {
            pending = null;
            finish(form, o.ceremony, credential);
          }
        });
      }).catch(function (err) {
        if (pending === controller) {
          pending = null;
        }
        if (err && err.name !== 'AbortError' && err.name !== 'NotAllowedError') {
          failed(form, err);
        }
      });
    });
  }

  for (i = 0; i < forms.length; i++) {
    (function (form) {
      form.hidden = false;
      form.addEventListener('submit', function (ev) {
        ev.preventDefault();
        run(form);
      });
      if (form.getAttribute('data-passkey') === 'login') {
        conditional(form);
      }
    })(forms[i]);
  }
})();
