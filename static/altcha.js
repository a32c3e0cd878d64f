// altcha.js solves Gatehouse's self-hosted proof-of-work CAPTCHA (the
// ALTCHA protocol, package oidc/captcha) so that people need not. No widget
// library, no third party: the page's own server issues and checks the
// challenge.
//
// Markup it expects (the template renders it; everything but the form
// attribute is optional and created if missing):
//
//   <form method="post" data-altcha-challenge-url="/captcha/challenge"
//         data-altcha-text-checking="Checking your browser…"
//         data-altcha-text-held="Checking your browser… The form will be sent as soon as this is done."
//         data-altcha-text-done="Done"
//         data-altcha-text-error="Your browser could not be checked. Reload the page to try again.">
//     …
//     <input type="hidden" name="altcha">
//     <p data-altcha-status role="status" aria-live="polite"></p>
//     <noscript><p>This form needs JavaScript to prove you are not a
//       robot: it makes your browser do a short calculation. Please turn
//       JavaScript on and reload the page.</p></noscript>
//     <button type="submit" id="login-submit">Sign in</button>
//   </form>
//   <script src="/static/altcha.js" defer></script>
//
// For each such form the script fetches a challenge {algorithm, challenge,
// maxnumber, salt, signature}, searches number with
// SHA-256(salt + number) == challenge and writes
// base64(JSON{algorithm, challenge, number, salt, signature, took}) into
// the "altcha" input. The status element says what is happening. When the
// challenge's expiry (the salt's "expires=" parameter) comes near, it
// solves a fresh one.
//
// The submit buttons stay usable meanwhile (marked aria-disabled): a
// disabled button would swallow a click, and Enter in a field with it.
// A submit made before the answer is ready is held, the status says so,
// and the form is sent by itself, through the same button, once solved.
(function () {
  "use strict";

  var BATCH = 64;        // digests started together
  var SLICE_MS = 40;     // work between yields, so the page stays responsive
  var REFRESH_MS = 30e3; // solve again this long before a challenge expires

  function hexToBytes(hex) {
    var out = new Uint8Array(hex.length / 2);
    for (var i = 0; i < out.length; i++) {
      out[i] = parseInt(hex.substr(2 * i, 2), 16);
    }
    return out;
  }

  function equal(a, b) {
    if (a.length !== b.length) return false;
    for (var i = 0; i < a.length; i++) {
      if (a[i] !== b[i]) return false;
    }
    return true;
  }

  // A macrotask: lets the browser paint and handle input between slices.
  function yieldToPage() {
    return new Promise(function (resolve) { setTimeout(resolve, 0); });
  }

  async function solve(ch) {
    if (ch.algorithm !== "SHA-256") throw new Error("unsupported algorithm " + ch.algorithm);
    var target = hexToBytes(ch.challenge);
    var enc = new TextEncoder();
    var max = ch.maxnumber || ch.maxNumber || 1e6;
    var sliceStart = performance.now();
    for (var start = 0; start <= max; start += BATCH) {
      var jobs = [];
      for (var n = start; n < start + BATCH && n <= max; n++) {
        jobs.push(crypto.subtle.digest("SHA-256", enc.encode(ch.salt + n)));
      }
      var sums = await Promise.all(jobs);
      for (var i = 0; i < sums.length; i++) {
        if (equal(new Uint8Array(sums[i]), target)) return start + i;
      }
      if (performance.now() - sliceStart > SLICE_MS) {
        await yieldToPage();
        sliceStart = performance.now();
      }
    }
    throw new Error("no solution");
  }

  function expiresAt(salt) {
    var m = /[?&]expires=(\d+)/.exec(salt);
    return m ? parseInt(m[1], 10) * 1000 : 0;
  }

  function setup(form) {
    var url = form.getAttribute("data-altcha-challenge-url");
    var text = {
      checking: form.getAttribute("data-altcha-text-checking") || "Checking your browser\u2026",
      held: form.getAttribute("data-altcha-text-held") ||
        "Checking your browser\u2026 The form will be sent as soon as this is done.",
      done: form.getAttribute("data-altcha-text-done") || "Done",
      error: form.getAttribute("data-altcha-text-error") ||
        "Your browser could not be checked. Reload the page to try again."
    };
    var input = form.querySelector('input[name="altcha"]');
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = "altcha";
      form.appendChild(input);
    }
    var status = form.querySelector("[data-altcha-status]");
    if (!status) {
      status = document.createElement("p");
      status.setAttribute("data-altcha-status", "");
      status.setAttribute("role", "status");
      status.setAttribute("aria-live", "polite");
      var first = form.querySelector('button[type="submit"], input[type="submit"], button:not([type])');
      form.insertBefore(status, first);
    }
    var buttons = form.querySelectorAll('button[type="submit"], input[type="submit"], button:not([type])');
    var ready = false;
    var held = null;    // {submitter} of a submit made before the answer was ready
    var failed = false; // no answer can come; the status says what to do

    function setReady(ok, message) {
      ready = ok;
      status.textContent = message;
      form.setAttribute("aria-busy", ok ? "false" : "true");
      for (var i = 0; i < buttons.length; i++) buttons[i].setAttribute("aria-disabled", ok ? "false" : "true");
    }

    // Sends the form as the held submit would have: through the same
    // button, so its name and value go along, and through the submit event,
    // so the browser's own checks of the fields run again.
    function release() {
      var submitter = held.submitter;
      held = null;
      if (typeof form.requestSubmit === "function") {
        if (submitter && submitter.form === form) form.requestSubmit(submitter);
        else form.requestSubmit();
        return;
      }
      if (submitter && submitter.name) {
        var carry = document.createElement("input");
        carry.type = "hidden";
        carry.name = submitter.name;
        carry.value = submitter.value;
        form.appendChild(carry);
      }
      form.submit();
    }

    form.addEventListener("submit", function (e) {
      if (ready) return;
      e.preventDefault();
      if (failed) {
        status.textContent = text.error;
        return;
      }
      held = { submitter: e.submitter || null };
      status.textContent = text.held;
    });

    async function run() {
      input.value = "";
      failed = false;
      setReady(false, held ? text.held : text.checking);
      try {
        if (!window.crypto || !crypto.subtle) throw new Error("no Web Crypto (not a secure context)");
        var resp = await fetch(url, {
          credentials: "same-origin",
          cache: "no-store",
          headers: { Accept: "application/json" }
        });
        if (!resp.ok) throw new Error("challenge: HTTP " + resp.status);
        var ch = await resp.json();
        var t0 = performance.now();
        var number = await solve(ch);
        input.value = btoa(JSON.stringify({
          algorithm: ch.algorithm,
          challenge: ch.challenge,
          number: number,
          salt: ch.salt,
          signature: ch.signature,
          took: Math.round(performance.now() - t0)
        }));
        setReady(true, text.done);
        var exp = expiresAt(ch.salt);
        if (exp) {
          setTimeout(run, Math.max(exp - Date.now() - REFRESH_MS, 1000));
        }
        if (held) release();
      } catch (err) {
        held = null; // the server would refuse it; the status says why
        failed = true;
        status.textContent = text.error;
        form.setAttribute("aria-busy", "false");
        if (window.console) console.error("altcha:", err);
      }
    }
    run();
  }

  function init() {
    var forms = document.querySelectorAll("form[data-altcha-challenge-url]");
    for (var i = 0; i < forms.length; i++) setup(forms[i]);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
