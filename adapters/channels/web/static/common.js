// Shared by the web chat (app.js, watch.js) and the audit page (audit.js):
// the sign-in token and screen, DOM helpers, API calls and the demo users' list.
"use strict";

const TOKEN_KEY = "askmesh.token"; // one sign-in for the chat and the audit page

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k === "color") node.style.background = v; // CSSOM: allowed by the CSP, unlike style=""
    else node.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers["Authorization"] = "Bearer " + token;
  return fetch(path, Object.assign({}, options, { headers }));
}

async function errorMessage(res) {
  try {
    const body = await res.json();
    if (body && body.error && body.error.message) return body.error.message;
  } catch (_) { /* not JSON */ }
  return "request failed with status " + res.status;
}

// showDemoUsers lists the demo users in #demo-users; picking one signs in.
function showDemoUsers(users, signIn) {
  const list = $("demo-users");
  list.replaceChildren();
  for (const u of users) {
    const button = el("button", { type: "button", "data-user": u.id },
      el("span", { class: "u-name", text: u.name || u.id }),
      u.title ? el("span", { class: "u-title", text: u.title }) : null,
      el("span", { class: "u-id", text: u.id }),
      el("span", { class: "u-groups", text: (u.groups || []).join(", ") }));
    button.addEventListener("click", () => signIn(u.token));
    list.append(el("li", {}, button));
  }
}

// signInFlow runs the sign-in screen both pages share. page.main is the id
// of the section shown once signed in; page.demoWarning(warning) is the text
// above the demo users; page.signedIn(me) and page.signedOut() do the page's
// own work. start() wires the form and the sign-out button and signs in with
// a kept token, if any.
function signInFlow(page) {
  async function showSignIn(message) {
    $(page.main).hidden = true;
    $("who").hidden = true;
    $("signin").hidden = false;
    const err = $("signin-error");
    err.hidden = !message;
    err.textContent = message || "";
    const res = await fetch("/v1/demo/users").catch(() => null);
    if (!res || !res.ok) { $("demo").hidden = true; return; }
    const body = await res.json();
    $("demo-warning").textContent = page.demoWarning(body.warning || "");
    showDemoUsers(body.users, signIn);
    $("demo").hidden = false;
  }

  async function signIn(token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    const res = await api("/v1/me").catch(() => null);
    if (!res || !res.ok) {
      const msg = res ? await errorMessage(res) : "the server cannot be reached";
      sessionStorage.removeItem(TOKEN_KEY);
      showSignIn(msg);
      return;
    }
    const me = await res.json();
    $("who-name").textContent = me.name ? me.name + " · " + me.id : me.id;
    $("who-groups").textContent = (me.groups || []).join(", ");
    $("who").hidden = false;
    $("signin").hidden = true;
    $(page.main).hidden = false;
    await page.signedIn(me);
  }

  function signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
    page.signedOut();
    $("token").value = "";
    showSignIn("");
  }

  function start() {
    $("token-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const t = $("token").value.trim();
      if (t) signIn(t);
    });
    $("sign-out").addEventListener("click", signOut);
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) signIn(token); else showSignIn("");
  }

  return { signIn, signOut, start };
}
