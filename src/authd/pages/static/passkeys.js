// Passkeys (WebAuthn) are a progressive enhancement of the pages: every page works without
// this script, and its passkey forms (marked data-passkey) stay hidden unless the browser can
// do passkeys. It is a separate file so the Content-Security-Policy stays script-src 'self'.
//
// Sign-in (/login, /mfa): a challenge from POST /v1/passkeys/challenge, the browser's
// navigator.credentials.get(), then the form posts the assertion (a normal form post, with
// its CSRF token) and the server finishes the sign-in like any other.
// Adding one (/account): options from POST /v1/passkeys/registration (the session's CSRF
// token in X-CSRF-Token), navigator.credentials.create(), then the form posts the result.
"use strict";

const canPasskeys = () => window.PublicKeyCredential &&
  typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function" &&
  typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function";

async function postJSON(url, body, csrf) {
  const headers = { "Content-Type": "application/json" };
  if (csrf) headers["X-CSRF-Token"] = csrf;
  const answer = await fetch(url, {
    method: "POST", headers, body: JSON.stringify(body), credentials: "same-origin",
  });
  return answer.ok ? answer.json() : null;
}

async function signIn(form) {
  const challenge = await postJSON("/v1/passkeys/challenge", {});
  if (!challenge) return;
  const options = PublicKeyCredential.parseRequestOptionsFromJSON(challenge.options);
  const credential = await navigator.credentials.get({ publicKey: options });
  form.elements.challenge_id.value = challenge.challenge_id;
  form.elements.credential.value = JSON.stringify(credential.toJSON());
  form.submit();
}

async function add(form) {
  const csrf = form.elements.csrf_token.value;
  const challenge = await postJSON("/v1/passkeys/registration", {}, csrf);
  if (challenge) {  // else the server's answer to the bare form says why (e.g. sign in again)
    const options = PublicKeyCredential.parseCreationOptionsFromJSON(challenge.options);
    const credential = await navigator.credentials.create({ publicKey: options });
    form.elements.challenge_id.value = challenge.challenge_id;
    form.elements.credential.value = JSON.stringify(credential.toJSON());
  }
  form.submit();
}

document.addEventListener("DOMContentLoaded", () => {
  if (!canPasskeys()) return;
  for (const form of document.querySelectorAll("form[data-passkey]")) {
    form.hidden = false;
    const run = form.dataset.passkey === "add" ? add : signIn;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const status = form.querySelector("[role=status]");
      run(form).catch(() => { if (status) status.hidden = false; });
    });
  }
});
