// Passkeys (WebAuthn) are a progressive enhancement of the sign-in pages: every page works
// without this script. It does nothing until the server offers passkeys (a form marked
// data-passkey); it is a separate file so the Content-Security-Policy stays script-src 'self'.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  if (!window.PublicKeyCredential) return;
  for (const form of document.querySelectorAll("form[data-passkey]")) {
    form.hidden = false;
  }
});
