// Passkeys on safescreen's pages: the only script of the service, and progressive
// enhancement only (without it, the authenticator-app code does the same job). It turns the
// server's WebAuthn options into the browser's call and the answer back into JSON.
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

  function post(url, csrf, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().then(function (json) {
        if (!response.ok) { throw new Error(json.detail || json.title || "The passkey did not work."); }
        return json;
      });
    });
  }

  function showError(message) {
    var box = document.getElementById("passkey-error");
    if (box) { box.textContent = message; box.hidden = false; }
  }

  function publicKeyCredentialJson(credential) {
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

  function register(panel) {
    var csrf = panel.getAttribute("data-csrf");
    var nameField = document.getElementById("f-passkey_name");
    var name = (nameField && nameField.value.trim()) || "Passkey";
    post("/account/passkeys/start", csrf).then(function (started) {
      var options = started.options.publicKey;
      options.challenge = fromBase64url(options.challenge);
      options.user.id = fromBase64url(options.user.id);
      (options.excludeCredentials || []).forEach(function (c) { c.id = fromBase64url(c.id); });
      return navigator.credentials.create({ publicKey: options }).then(function (credential) {
        return post("/account/passkeys/finish", csrf, {
          ceremony: started.ceremony, name: name, credential: publicKeyCredentialJson(credential)
        });
      });
    }).then(function (finished) {
      if (!finished.recovery_codes) { window.location.assign(finished.next); return; }
      // The account's first factor: its recovery codes, shown this once, before going on.
      while (panel.firstChild) { panel.removeChild(panel.firstChild); }
      var heading = document.createElement("h2");
      heading.textContent = panel.getAttribute("data-codes-title");
      heading.tabIndex = -1;
      var text = document.createElement("p");
      text.textContent = panel.getAttribute("data-codes-text");
      var list = document.createElement("ol");
      list.className = "codes";
      finished.recovery_codes.forEach(function (code) {
        var item = document.createElement("li");
        item.textContent = code;
        list.appendChild(item);
      });
      var next = document.createElement("a");
      next.className = "button";
      next.href = finished.next;
      next.textContent = panel.getAttribute("data-codes-continue");
      panel.appendChild(heading);
      panel.appendChild(text);
      panel.appendChild(list);
      panel.appendChild(next);
      heading.focus();
    }).catch(function (error) { showError(error.message); });
  }

  function signIn(panel) {
    var csrf = panel.getAttribute("data-csrf");
    post("/login/verify/passkey/start", csrf).then(function (started) {
      var options = started.options.publicKey;
      options.challenge = fromBase64url(options.challenge);
      (options.allowCredentials || []).forEach(function (c) { c.id = fromBase64url(c.id); });
      return navigator.credentials.get({ publicKey: options }).then(function (credential) {
        return post("/login/verify/passkey/finish", csrf, {
          ceremony: started.ceremony, credential: publicKeyCredentialJson(credential)
        });
      });
    }).then(function (finished) {
      window.location.assign(finished.next);
    }).catch(function (error) { showError(error.message); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.PublicKeyCredential || !navigator.credentials) { return; }
    var registerPanel = document.getElementById("passkey-register");
    if (registerPanel) {
      registerPanel.hidden = false;
      document.getElementById("passkey-register-button").addEventListener("click", function () { register(registerPanel); });
    }
    var signInPanel = document.getElementById("passkey-sign-in");
    if (signInPanel) {
      signInPanel.hidden = false;
      document.getElementById("passkey-sign-in-button").addEventListener("click", function () { signIn(signInPanel); });
    }
  });
}());
