// Shared by the web chat (app.js, watch.js) and the audit page (audit.js):
// the sign-in (the identity provider's, a pasted bearer token, or a demo
// user), DOM helpers, API calls and the demo users' list.
"use strict";

const TOKEN_KEY = "askmesh.token"; // one sign-in for the chat and the audit page

// A web session (signed in with the identity provider) lives in an
// HttpOnly cookie the page cannot read; /v1/me gives its CSRF token, which
// every state-changing request carries.
let csrfToken = "";

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
  else if (csrfToken && !["GET", "HEAD"].includes((options.method || "GET").toUpperCase())) headers["X-CSRF-Token"] = csrfToken;
  return fetch(path, Object.assign({ credentials: "same-origin" }, options, { headers }));
}

async function errorMessage(res) {
  try {
    const body = await res.json();
    if (body && body.error && body.error.message) return body.error.message;
  } catch (_) { /* not JSON */ }
  return "request failed with status " + res.status;
}

// signinOptions says how people sign in here: with the identity provider
// (sso, login_url, provider) and whether demo users exist (demo).
let signinOptionsPromise = null;
function signinOptions() {
  if (!signinOptionsPromise) {
    signinOptionsPromise = fetch("/v1/web/signin").then((r) => (r.ok ? r.json() : {})).catch(() => ({}));
  }
  return signinOptionsPromise;
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
// a kept token or the browser's web session, if any.
function signInFlow(page) {
  async function showSignIn(message) {
    $(page.main).hidden = true;
    $("who").hidden = true;
    $("signin").hidden = false;
    const err = $("signin-error");
    err.hidden = !message;
    err.textContent = message || "";
    const opts = await signinOptions();
    const sso = $("sso");
    if (sso) {
      sso.hidden = !opts.sso;
      if (opts.sso) {
        const link = $("sso-link");
        link.href = opts.login_url + "?return=" + encodeURIComponent(location.pathname);
        link.textContent = "Sign in with " + (opts.provider || "your identity provider");
      }
    }
    if (!opts.demo) { $("demo").hidden = true; return; }
    const res = await fetch("/v1/demo/users").catch(() => null);
    if (!res || !res.ok) { $("demo").hidden = true; return; }
    const body = await res.json();
    $("demo-warning").textContent = page.demoWarning(body.warning || "");
    showDemoUsers(body.users, signIn);
    $("demo").hidden = false;
  }

  // enter shows the signed-in page for me: the header names the person and
  // offers only the links their grants let them use.
  async function enter(me) {
    $("who-name").textContent = me.name ? me.name + " · " + me.id : me.id;
    $("who-groups").textContent = (me.groups || []).join(", ");
    for (const node of document.querySelectorAll("[data-offer]")) {
      node.hidden = !(me.offers && me.offers[node.dataset.offer]);
    }
    $("who").hidden = false;
    $("signin").hidden = true;
    $(page.main).hidden = false;
    await page.signedIn(me);
  }

  async function signIn(token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    csrfToken = "";
    const res = await api("/v1/me").catch(() => null);
    if (!res || !res.ok) {
      const msg = res ? await errorMessage(res) : "the server cannot be reached";
      sessionStorage.removeItem(TOKEN_KEY);
      showSignIn(msg);
      return;
    }
    await enter(await res.json());
  }

  // resume picks up the browser's web session, if it has one.
  async function resume() {
    if (!(await signinOptions()).signed_in) { showSignIn(""); return; }
    const res = await api("/v1/me").catch(() => null);
    if (!res || !res.ok) { showSignIn(""); return; }
    const me = await res.json();
    csrfToken = (me.session && me.session.csrf_token) || "";
    await enter(me);
  }

  async function signOut() {
    if (csrfToken) await api("/v1/web/logout", { method: "POST" }).catch(() => null);
    csrfToken = "";
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
    if (token) signIn(token); else resume();
  }

  return { signIn, signOut, start };
}
