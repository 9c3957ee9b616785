// Passkeys on safescreen's pages: the only script of the service, and progressive enhancement
// only (without it, the authenticator-app code does the same job). A ceremony page carries the
// server's WebAuthn options; this asks the browser's authenticator and posts its answer with
// the page's form. No request of its own: the pages' CSP allows none.
(function () {
  "use strict";

  function fromBase64url(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) { base64 += "="; }
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) { binary += String.fromCharCode(bytes[i]); }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function answer(credential) {
    var response = credential.response;
    var json = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      extensions: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
      response: { clientDataJSON: toBase64url(response.clientDataJSON) }
    };
    if (response.attestationObject) {
      json.response.attestationObject = toBase64url(response.attestationObject);
    } else {
      json.response.authenticatorData = toBase64url(response.authenticatorData);
      json.response.signature = toBase64url(response.signature);
      json.response.userHandle = response.userHandle ? toBase64url(response.userHandle) : null;
    }
    return json;
  }

  function ask(kind, options) {
    var publicKey = options.publicKey;
    publicKey.challenge = fromBase64url(publicKey.challenge);
    if (kind === "register") {
      publicKey.user.id = fromBase64url(publicKey.user.id);
      (publicKey.excludeCredentials || []).forEach(function (c) { c.id = fromBase64url(c.id); });
      return navigator.credentials.create({ publicKey: publicKey });
    }
    (publicKey.allowCredentials || []).forEach(function (c) { c.id = fromBase64url(c.id); });
    return navigator.credentials.get({ publicKey: publicKey });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var ceremony = document.getElementById("passkey-ceremony");
    var form = document.getElementById("passkey-finish");
    if (!ceremony || !form) { return; }
    var error = document.getElementById("passkey-error");
    if (!window.PublicKeyCredential || !navigator.credentials) {
      error.textContent = "This browser cannot use passkeys.";
      error.hidden = false;
      return;
    }
    var kind = ceremony.getAttribute("data-kind");
    var options = JSON.parse(ceremony.getAttribute("data-options"));
    ask(kind, options).then(function (credential) {
      form.elements.credential.value = JSON.stringify(answer(credential));
      form.submit();
    }).catch(function (reason) {
      error.textContent = "The passkey did not work: " + (reason && reason.message ? reason.message : reason);
      error.hidden = false;
    });
  });
}());
