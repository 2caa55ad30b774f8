// Shared by the web chat (app.js, watch.js) and the audit page (audit.js):
// the sign-in token, DOM helpers, API calls and the demo users' list.
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
