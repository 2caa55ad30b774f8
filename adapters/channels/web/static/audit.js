// askmesh audit review: filter the access log, open a record's full detail,
// verify the hash chain and export the filtered set. The server decides who
// may do any of it (policy on the access-audit product) and records every
// read; this page only shows what it is given. No framework, no build step.
"use strict";

function shortTime(v) {
  if (!v) return "";
  const s = String(v);
  // Stored as 2026-11-15T12:00:00.000000Z; seconds are enough in a table.
  return s.replace("T", " ").replace(/\.\d+Z$/, "Z").replace(/Z$/, "");
}

// fullTime keeps the stored precision for the record's detail (the evidence),
// read as a date and a time rather than ISO 8601: 2026-11-15 12:00:00.000000 UTC.
function fullTime(v) {
  if (!v) return "";
  return String(v).replace("T", " ").replace(/Z$/, " UTC");
}

// ---------- sign in ----------

const { signOut, start: startSignIn } = signInFlow({
  main: "review",
  demoWarning: (warning) => "Pick a person to review the log with their permissions: only auditors may. " + warning,
  async signedIn() {
    unforbid();
    loadKnownUsers();
    await load(true);
  },
  signedOut() {
    $("records").querySelector("tbody").replaceChildren();
    $("detail").hidden = true;
  },
});

async function loadKnownUsers() {
  if (!(await signinOptions()).demo) return; // only demo mode lists its users
  const res = await fetch("/v1/demo/users").catch(() => null);
  if (!res || !res.ok) return;
  const body = await res.json();
  $("known-users").replaceChildren(...body.users.map((u) => el("option", { value: u.id })));
}

// ---------- listing ----------

const state = { cursor: "", total: 0, shown: 0, products: new Set() };

function filterParams() {
  const p = new URLSearchParams();
  for (const [k, id] of [["user", "f-user"], ["product", "f-product"], ["decision", "f-decision"], ["since", "f-since"], ["until", "f-until"]]) {
    const v = $(id).value.trim();
    if (v) p.set(k, v);
  }
  return p;
}

// forbidden shows why the server refused; the refusal is already in the log.
function forbidden(message) {
  const f = $("forbidden");
  f.textContent = message;
  f.hidden = false;
  for (const id of ["filters", "verify", "export-csv", "export-jsonl"]) $(id).disabled = true;
  document.querySelector(".toolbar").hidden = true;
  document.querySelector(".review-body").hidden = true;
  $("filters").hidden = true;
}

function unforbid() {
  $("forbidden").hidden = true;
  for (const id of ["filters", "verify", "export-csv", "export-jsonl"]) $(id).disabled = false;
  document.querySelector(".toolbar").hidden = false;
  document.querySelector(".review-body").hidden = false;
  $("filters").hidden = false;
}

async function load(reset) {
  const tbody = $("records").querySelector("tbody");
  const params = filterParams();
  if (reset) {
    state.cursor = "";
    state.shown = 0;
    tbody.replaceChildren();
    $("detail").hidden = true;
  } else if (state.cursor) {
    params.set("cursor", state.cursor);
  }
  $("summary").textContent = "Loading…";
  const res = await api("/v1/audit/records?" + params.toString()).catch(() => null);
  if (!res) { $("summary").textContent = "The server cannot be reached."; return; }
  if (res.status === 401) { signOut(); return; }
  if (res.status === 403) { forbidden(await errorMessage(res)); return; }
  if (!res.ok) { $("summary").textContent = await errorMessage(res); return; }
  const body = await res.json();
  for (const r of body.records) {
    tbody.append(recordRow(r));
    if (r.product) state.products.add(r.product);
  }
  state.shown += body.records.length;
  state.total = body.total_count;
  state.cursor = body.next_cursor || "";
  $("more").hidden = !state.cursor;
  $("empty-note").hidden = state.shown > 0;
  const summary = $("summary");
  summary.textContent = `${state.total} record${state.total === 1 ? "" : "s"} match · showing ${state.shown}, newest first`;
  summary.dataset.total = String(state.total);
  summary.dataset.shown = String(state.shown);
  $("known-products").replaceChildren(...[...state.products].sort().map((p) => el("option", { value: p })));
}

function recordRow(r) {
  const tr = el("tr", { class: "rec", "data-id": r.id, "data-decision": r.decision, "data-subject": r.subject, tabindex: "0" },
    el("td", { class: "num", text: r.seq }),
    el("td", { class: "at", text: shortTime(r.at) }),
    el("td", { class: "subject", text: r.subject }),
    el("td", { text: r.tool }),
    el("td", { class: "product", text: r.product || "—" }),
    el("td", {}, el("span", { class: "badge " + r.decision, text: r.decision })),
    el("td", { class: "num", text: r.rows_returned }),
    el("td", { class: "why" }, r.reason ? el("span", { class: "reason", text: r.reason }) : null,
      r.question ? el("span", { class: "q", text: "“" + r.question + "”" }) : null));
  tr.addEventListener("click", () => openRecord(r.id, tr));
  tr.addEventListener("keydown", (e) => { if (e.key === "Enter") openRecord(r.id, tr); });
  return tr;
}

// ---------- one record ----------

function jsonBlock(v) {
  let text = v;
  if (typeof v !== "string") text = JSON.stringify(v, null, 2);
  return el("pre", { class: "json", text });
}

function isEmpty(v) {
  return v === null || v === undefined || v === "" || (Array.isArray(v) && v.length === 0) ||
    (typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0);
}

async function openRecord(id, tr) {
  for (const row of document.querySelectorAll("tr.rec.selected")) row.classList.remove("selected");
  if (tr) tr.classList.add("selected");
  const box = $("detail");
  box.hidden = false;
  box.replaceChildren(el("p", { class: "muted", text: "Loading record…" }));
  const res = await api("/v1/audit/records/" + encodeURIComponent(id)).catch(() => null);
  if (!res) { box.replaceChildren(el("p", { class: "error", text: "The server cannot be reached." })); return; }
  if (res.status === 403) { forbidden(await errorMessage(res)); return; }
  if (!res.ok) { box.replaceChildren(el("p", { class: "error", text: await errorMessage(res) })); return; }
  const body = await res.json();
  const r = body.record;
  box.dataset.id = r.id;
  const field = (label, value, cls) => [el("dt", { text: label }), el("dd", { class: cls, text: isEmpty(value) ? "—" : String(value) })];
  const block = (label, value) => [el("dt", { text: label }), el("dd", {}, isEmpty(value) ? "—" : jsonBlock(value))];
  box.replaceChildren(
    el("div", { class: "detail-head" },
      el("h2", { text: "Record " + r.seq }),
      el("span", { class: "badge " + r.decision, text: r.decision }),
      el("button", { type: "button", class: "plain close", "aria-label": "Close", text: "×" })),
    el("dl", { class: "fields" },
      ...field("ID", r.id, "mono"),
      ...field("Time", fullTime(r.at)),
      ...field("User", r.subject),
      ...field("Groups", (r.groups || []).join(", ")),
      ...field("Channel", r.channel),
      ...field("Question", r.question, "asked"),
      ...field("Tool", r.tool),
      ...field("Action", r.action),
      ...field("Product", r.product),
      ...field("Reason", r.reason),
      ...field("Rows returned", r.rows_returned),
      ...block("Arguments", r.arguments),
      ...field("Columns", (r.columns || []).join(", ")),
      ...block("Row filters (policy)", r.row_filters),
      ...block("Masks", r.masks),
      ...field("Model", r.model),
      ...field("Request", r.request_id, "mono"),
      ...field("Conversation", r.conversation_id, "mono"),
      ...field("Policy revision", r.policy_revision, "mono hash"),
      ...field("Duration", r.duration_ms + " ms"),
      ...field("Previous hash", r.prev_hash, "mono hash"),
      ...field("Hash", r.hash, "mono hash")),
    el("p", { class: body.hash_matches ? "hash-ok" : "hash-bad",
      text: body.hash_matches ? "The record's content still hashes to its stored hash." : "The record's content does NOT hash to its stored hash: it was altered." }),
    el("p", { class: "muted small", text: "Opening this record was recorded as audit record " + body.audit_id + "." }));
  box.querySelector(".close").addEventListener("click", () => { box.hidden = true; if (tr) tr.classList.remove("selected"); });
}

// ---------- verify and export ----------

async function verify() {
  const out = $("verify-result");
  out.hidden = false;
  out.className = "verify-result";
  out.textContent = "Walking the hash chain…";
  const res = await api("/v1/audit/verify", { method: "POST" }).catch(() => null);
  if (!res) { out.textContent = "The server cannot be reached."; return; }
  if (res.status === 403) { forbidden(await errorMessage(res)); return; }
  if (!res.ok) { out.classList.add("bad"); out.textContent = await errorMessage(res); return; }
  const v = await res.json();
  out.dataset.ok = String(v.ok);
  out.dataset.records = String(v.records);
  if (v.ok) {
    out.classList.add("ok");
    out.textContent = `Chain intact: ${v.records} records, head seq ${v.head_seq}, head hash ${v.head_hash}.`;
  } else {
    out.classList.add("bad");
    out.textContent = `CHAIN BROKEN at seq ${v.broken_seq} (record ${v.broken_id}): ${v.problem}`;
  }
}

async function exportAs(format) {
  const out = $("export-result");
  out.hidden = false;
  out.className = "export-result";
  out.textContent = "Exporting…";
  const params = filterParams();
  params.set("format", format);
  const res = await api("/v1/audit/export?" + params.toString()).catch(() => null);
  if (!res) { out.textContent = "The server cannot be reached."; return; }
  if (res.status === 403) { forbidden(await errorMessage(res)); return; }
  if (!res.ok) { out.textContent = await errorMessage(res); return; }
  const blob = await res.blob();
  const count = res.headers.get("X-Askmesh-Records") || "0";
  const disposition = res.headers.get("Content-Disposition") || "";
  const m = disposition.match(/filename="([^"]+)"/);
  const name = m ? m[1] : "askmesh-audit." + format;
  const url = URL.createObjectURL(blob);
  const link = el("a", { href: url, download: name, class: "download", text: name });
  out.replaceChildren(`Exported ${count} record${count === "1" ? "" : "s"} as ${format.toUpperCase()}: `, link);
  out.dataset.count = count;
  out.dataset.format = format;
  out.dataset.bytes = String(blob.size);
  link.click();
}

// ---------- wiring ----------

document.addEventListener("DOMContentLoaded", () => {
  $("filters").addEventListener("submit", (e) => { e.preventDefault(); load(true); });
  $("reset").addEventListener("click", () => { $("filters").reset(); load(true); });
  $("more").addEventListener("click", () => load(false));
  $("verify").addEventListener("click", verify);
  for (const id of ["export-csv", "export-jsonl"]) $(id).addEventListener("click", (e) => exportAs(e.currentTarget.dataset.format));
  startSignIn();
});
