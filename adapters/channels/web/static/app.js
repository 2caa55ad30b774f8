// askmesh web chat: sign in with a bearer token (kept in sessionStorage),
// ask questions, and watch the answer stream in over server-sent events read
// from a fetch body (EventSource cannot POST). No framework, no build step.
"use strict";

const CONV_KEY = "askmesh.conversation";
const numberFormat = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });

function formatValue(v) {
  if (v === null || v === undefined) return "—";
  if (typeof v === "number") return numberFormat.format(v);
  return String(v);
}

// ---------- sign in ----------

const { signOut, start: startSignIn } = signInFlow({
  main: "chat",
  demoWarning: (warning) => "Pick a person to see the mesh with their permissions. " + capitalize(warning) + ".",
  async signedIn(me) {
    if (sessionStorage.getItem("askmesh.user") !== me.id) {
      sessionStorage.removeItem(CONV_KEY); // conversations belong to one person
    }
    sessionStorage.setItem("askmesh.user", me.id);
    $("question").focus();
    await restoreConversation();
    loadExamples();
  },
  signedOut() {
    sessionStorage.removeItem(CONV_KEY);
    sessionStorage.removeItem("askmesh.user");
    $("messages").replaceChildren();
  },
});

function newConversation() {
  sessionStorage.removeItem(CONV_KEY);
  $("messages").replaceChildren();
  showEmpty();
  $("question").focus();
}

function showEmpty() {
  if ($("messages").children.length === 0) {
    $("messages").append(el("p", { class: "empty", id: "empty", text: "Ask a question about the organization's data. You will see each data access and whether policy allowed it." }));
  }
}

async function loadExamples() {
  const box = $("examples");
  box.replaceChildren();
  const res = await api("/v1/examples").catch(() => null);
  if (!res || !res.ok) return;
  const body = await res.json();
  // The hint, too, is a question this person may ask.
  if ((body.examples || []).length) $("question").placeholder = "Ask about your data, e.g. “" + body.examples[0].question + "”";
  for (const ex of (body.examples || []).slice(0, 6)) {
    const b = el("button", { type: "button", title: ex.product, text: ex.question });
    b.addEventListener("click", () => { $("question").value = ex.question; $("question").focus(); });
    box.append(b);
  }
}

async function restoreConversation() {
  $("messages").replaceChildren();
  const id = sessionStorage.getItem(CONV_KEY);
  if (id) {
    const res = await api("/v1/conversations/" + encodeURIComponent(id)).catch(() => null);
    if (res && res.ok) {
      const conv = await res.json();
      for (const m of conv.messages) {
        if (m.role === "user") $("messages").append(el("div", { class: "turn" }, el("div", { class: "question", text: m.content })));
        else if (m.role === "assistant" && m.content && !(m.tool_calls || []).length) {
          const a = el("div", { class: "answer done" }, el("div", { class: "text" }));
          renderText(a.querySelector(".text"), m.content);
          $("messages").lastChild ? $("messages").lastChild.append(a) : $("messages").append(a);
        }
      }
    } else {
      sessionStorage.removeItem(CONV_KEY);
    }
  }
  showEmpty();
}

// ---------- asking ----------

let busy = false;

async function ask(question) {
  if (busy || !question.trim()) return;
  busy = true;
  $("send").disabled = true;
  const empty = $("empty");
  if (empty) empty.remove();
  const view = newTurn(question);
  try {
    const res = await api("/v1/web/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "text/event-stream" },
      body: JSON.stringify({ conversation_id: sessionStorage.getItem(CONV_KEY) || undefined, message: question }),
    });
    if (res.status === 401) { signOut(); return; }
    if (!res.ok) { view.fail(await errorMessage(res)); return; }
    await readEvents(res.body, (type, data) => view.event(type, data));
    if (!view.finished) view.fail("the answer stream ended early; try again");
  } catch (e) {
    view.fail("the connection failed: " + e.message);
  } finally {
    busy = false;
    $("send").disabled = false;
    $("question").focus();
  }
}

// readEvents parses a text/event-stream body: events are separated by a
// blank line; "event:" names it, "data:" lines carry its JSON.
async function readEvents(body, onEvent) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let type = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) type = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length) {
        try { onEvent(type, JSON.parse(data.join("\n"))); } catch (e) { console.error("bad event", e); }
      }
    }
  }
}

function newTurn(question) {
  const status = el("div", { class: "status" }, el("span", { class: "spinner" }), el("span", { class: "status-text", text: "Sending…" }));
  const calls = el("ul", { class: "calls" });
  const text = el("div", { class: "text" });
  const answer = el("div", { class: "answer" }, status, calls, text);
  const turn = el("div", { class: "turn" }, el("div", { class: "question", text: question }), answer);
  $("messages").append(turn);
  turn.scrollIntoView({ block: "end" });
  let streamed = "";
  const view = {
    finished: false,
    event(type, ev) {
      switch (type) {
        case "thinking":
          status.querySelector(".status-text").textContent = capitalize(ev.text || "thinking") + "…";
          break;
        case "tool_started":
          calls.append(callRow(ev.tool_call));
          status.querySelector(".status-text").textContent = "Calling " + ev.tool_call.tool + "…";
          break;
        case "tool_finished": {
          const row = calls.querySelector(`[data-call="${CSS.escape(ev.tool_call.id)}"]`);
          const fresh = callRow(ev.tool_call);
          row ? row.replaceWith(fresh) : calls.append(fresh);
          break;
        }
        case "text":
          streamed += ev.text || "";
          renderText(text, streamed);
          break;
        case "answer":
          view.finished = true;
          status.remove();
          renderAnswer(answer, text, ev.answer);
          if (ev.answer.conversation_id) sessionStorage.setItem(CONV_KEY, ev.answer.conversation_id);
          answer.classList.add("done");
          break;
        case "error":
          view.fail(ev.error || "no answer");
          break;
      }
      turn.scrollIntoView({ block: "end" });
    },
    fail(message) {
      view.finished = true;
      status.remove();
      answer.append(el("p", { class: "failed", role: "alert", text: "No answer: " + message }));
      answer.classList.add("done", "failed-answer");
    },
  };
  return view;
}

function capitalize(s) { return s.charAt(0).toUpperCase() + s.slice(1); }

const DECISIONS = { allow: "allowed", deny: "denied", error: "error" };

function callRow(call) {
  const decision = call.decision || "pending";
  const li = el("li", { class: "call", "data-call": call.id, "data-decision": decision },
    el("span", { class: "badge " + decision, text: DECISIONS[decision] || "running" }),
    el("code", { text: call.tool }),
    call.product ? el("span", { class: "product", text: call.product }) : null,
    call.decision === "allow" ? el("span", { class: "rows", text: call.row_count + (call.row_count === 1 ? " row" : " rows") }) : null,
    call.error ? el("span", { class: "reason", text: "— " + call.error }) : null,
    call.audit_id ? el("span", { class: "audit", title: "audit record", text: "audit " + call.audit_id }) : null);
  return li;
}

// ---------- rendering an answer ----------

function renderAnswer(answer, text, ans) {
  if (ans.brief && renderBrief(answer, text, ans)) return; // brief.js
  const clar = ans.clarification;
  renderText(text, clar ? clar.question : ans.text || "");
  renderVerified(text, ans);
  if (clar && (clar.options || []).length) {
    // The readings as buttons: a click asks the chosen, complete question.
    const box = el("div", { class: "clarification", role: "group", "aria-label": "Choose what you mean" });
    for (const o of clar.options) {
      const b = el("button", { type: "button", class: "choice", title: o.question, text: o.label });
      b.dataset.question = o.question;
      b.addEventListener("click", () => {
        box.querySelectorAll("button").forEach((x) => { x.disabled = true; });
        b.classList.add("chosen");
        ask(o.question);
      });
      box.append(b);
    }
    answer.append(box);
  }
  if (ans.request_id) answer.append(feedbackBar(answer, ans));
  if ((ans.tables || []).length) {
    const box = el("div", { class: "tables" });
    for (const t of ans.tables) box.append(renderTable(t));
    answer.append(box);
  }
  if ((ans.charts || []).length) {
    const box = el("div", { class: "charts" });
    ans.charts.forEach((c, i) => {
      const drawn = ((ans.render || {}).charts || [])[i];
      const node = drawn && serverChart(c, drawn); // brief.js: drawn by the server
      if (node) box.append(node);
    });
    answer.append(box);
  }
  if ((ans.denials || []).length) {
    const box = el("div", { class: "denials", role: "note" }, el("h3", { text: "Not allowed" }));
    for (const d of ans.denials) {
      box.append(el("p", {},
        el("strong", { text: (d.product || d.tool) + ": " }), d.reason + " ",
        el("span", { class: "audit", text: "(audit " + d.audit_id + ")" })));
    }
    box.append(el("p", { class: "muted", text: "Policy decides on your behalf; ask the product's owner if you need this access." }));
    answer.append(box);
  }
  if ((ans.flags || []).length) {
    // Numbers in the text that no tool returned: the reader should know.
    const box = el("div", { class: "flags", role: "note" }, el("h3", { text: "Check these" }));
    for (const f of ans.flags) box.append(el("p", { text: f }));
    answer.append(box);
  }
  if ((ans.computed || []).length || (ans.provenance || []).length) answer.append(howComputed(ans));
  if ((ans.sources || []).length) {
    const list = el("ul");
    for (const s of ans.sources) {
      list.append(el("li", {},
        el("span", { class: "product", text: s.product || "catalog" }), " ",
        el("span", { class: "tool", text: "via " + s.tool }), " · ",
        el("span", { class: "audit", text: "audit " + s.audit_id })));
    }
    answer.append(el("div", { class: "sources" }, el("h3", { text: "Sources" }), list));
  }
}

// howComputed is the "How was this computed?" disclosure: for each data
// call, in plain words, the product, the metrics and their definitions, the
// filters (the asker's and the ones policy added, marked), the period and
// the audit record, with "Copy as API call"; then where each number comes from.
function howComputed(ans) {
  const box = el("details", { class: "computed" }, el("summary", { text: "How was this computed?" }));
  for (const c of ans.computed || []) {
    const fields = el("dl", { class: "computed-fields" });
    const field = (name, ...value) => fields.append(el("dt", { text: name }), el("dd", {}, ...value));
    field("Product", el("span", { class: "product", text: c.product }));
    for (const m of c.metrics || []) {
      field("Metric", el("strong", { text: m.label }), m.definition ? ": " + m.definition : "");
    }
    if ((c.filters || []).length) {
      const list = el("ul", { class: "computed-filters" });
      for (const f of c.filters) {
        const policy = f.origin === "policy";
        list.append(el("li", { class: policy ? "policy" : "question", "data-origin": f.origin },
          filterWords(f), " ",
          el("span", { class: "origin" + (policy ? " policy" : ""), text: policy ? "added by policy" : "your question" })));
      }
      field("Filters", list);
    } else {
      field("Filters", "none");
    }
    field("Period", c.period);
    field("Audit record", el("code", { class: "audit", text: c.audit_id }));
    const curl = el("pre", { class: "api-call", hidden: "" });
    const status = el("span", { class: "copy-status", role: "status" });
    const copy = el("button", { type: "button", class: "copy-api", text: "Copy as API call" });
    copy.addEventListener("click", async () => {
      curl.textContent = apiCall(c);
      // Said at once: the clipboard may wait for a permission, or refuse.
      status.textContent = "Select the command below and copy it; set ASKMESH_TOKEN to your own token.";
      curl.hidden = false;
      try {
        await navigator.clipboard.writeText(curl.textContent);
        status.textContent = "Copied. Set ASKMESH_TOKEN to your own token.";
      } catch (_) { /* the command is shown to select */ }
    });
    box.append(el("section", { class: "computation", "data-audit": c.audit_id },
      el("p", { class: "computed-summary", text: c.summary }), fields, el("div", { class: "copy-row" }, copy, status), curl));
  }
  if ((ans.provenance || []).length) {
    // Where each number came from, one line per number.
    const list = el("ol");
    for (const p of ans.provenance) {
      const filters = (p.filters || []).map((f) => `${f.column} ${f.op} ${Array.isArray(f.value) ? f.value.join(", ") : f.value ?? ""}`.trim() + (f.origin === "policy" ? " (policy)" : ""));
      const li = el("li", { title: p.definition || "" },
        el("span", { class: "value", text: p.value }), " ",
        el("span", { class: "label", text: p.label || p.metric }), " · ",
        el("span", { class: "product", text: p.product }), " · ",
        el("span", { class: "metric", text: p.metric + (p.definition ? ": " + p.definition : "") }),
        filters.length ? " · " + filters.join("; ") : "",
        " · ", el("span", { class: "period" + (p.partial ? " partial" : ""), text: (p.period || "") + (p.partial && !/so far/.test(p.period || "") ? " (so far)" : "") }),
        " · ", el("span", { class: "audit", text: "audit " + p.audit_id }));
      list.append(li);
    }
    box.append(el("div", { class: "provenance" }, el("h4", { text: "Where each number comes from" }), list));
  }
  return box;
}

const FILTER_WORDS = { "=": "is", "!=": "is not", "<": "is below", "<=": "is at most", ">": "is over", ">=": "is at least",
  "in": "is one of", "not in": "is none of", "contains": "contains", "is null": "is empty", "is not null": "is not empty" };

// filterWords says a filter as assistant.FilterText does, without the origin
// (the page marks that itself).
function filterWords(f) {
  const col = String(f.column).replace(/_/g, " ");
  const op = String(f.op).toLowerCase();
  const val = Array.isArray(f.value) ? f.value.map(formatValue).join(op === "between" ? " and " : ", ") : (f.value === undefined || f.value === null ? "" : formatValue(f.value));
  if (op === "between") return col + " is between " + val;
  return (col + " " + (FILTER_WORDS[op] || op) + " " + val).trim();
}

// apiCall is a curl command that makes the same tool call through askmesh's
// tools API (MCP over HTTP, POST /mcp): policy adds its filters again for
// whoever runs it. The token is a placeholder, never the page's own.
function apiCall(c) {
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: c.tool, arguments: c.arguments } });
  const quoted = "'" + body.replace(/'/g, "'\\''") + "'";
  return [
    "curl -sS " + location.origin + "/mcp \\",
    "  -H \"Authorization: Bearer $ASKMESH_TOKEN\" \\",
    "  -H 'Content-Type: application/json' \\",
    "  -H 'Accept: application/json, text/event-stream' \\",
    "  -d " + quoted,
  ].join("\n");
}

// renderText shows the answer's light Markdown (paragraphs, "- " lists,
// **bold**) by building nodes: the text is never parsed as HTML.
function renderText(node, source) {
  node.replaceChildren();
  for (const block of source.split(/\n{2,}/)) {
    const lines = block.split("\n").filter((l) => l.trim() !== "");
    if (!lines.length) continue;
    if (lines.every((l) => /^\s*[-*•] /.test(l))) {
      const ul = el("ul");
      for (const l of lines) ul.append(inline(el("li"), l.replace(/^\s*[-*•] /, "")));
      node.append(ul);
    } else {
      node.append(inline(el("p"), lines.join("\n")));
    }
  }
}

function inline(node, text) {
  const parts = text.split(/\*\*(.+?)\*\*/g);
  parts.forEach((part, i) => node.append(i % 2 ? el("strong", { text: part }) : document.createTextNode(part)));
  return node;
}

const NUMERIC = new Set(["integer", "number"]);

function renderTable(t) {
  const cols = t.columns || [];
  const head = el("tr");
  for (const c of cols) head.append(el("th", { class: NUMERIC.has(c.type) ? "num" : null, text: c.name.replace(/_/g, " ") }));
  const body = el("tbody");
  (t.rows || []).forEach((row, r) => {
    const tr = el("tr");
    row.forEach((v, i) => {
      const c = cols[i] || {};
      // The server's display cells: rates as percentages, amounts with their currency.
      const display = t.display && t.display[r] ? t.display[r][i] : undefined;
      let shown = display ?? formatValue(v);
      let cls = NUMERIC.has(c.type) || typeof v === "number" ? "num" : "";
      if ((c.role === "change" || c.role === "change_pct") && typeof v === "number") {
        if (display === undefined) {
          if (c.role === "change_pct") shown = (v > 0 ? "+" : "") + numberFormat.format(v) + "%";
          else if (v > 0) shown = "+" + shown;
        }
        cls += v > 0 ? " up" : v < 0 ? " down" : "";
      }
      tr.append(el("td", { class: cls || null, text: shown }));
    });
    body.append(tr);
  });
  const wrap = el("div", { class: "table-wrap" },
    el("div", { class: "table-title", text: t.title || (t.source && t.source.product) || "Result" }),
    el("table", {}, el("thead", {}, head), body));
  const notes = [];
  if (t.total_rows > (t.rows || []).length) notes.push(`${numberFormat.format(t.total_rows)} rows match; ${t.rows.length} shown`);
  for (const n of t.notes || []) notes.push(n);
  for (const n of notes) wrap.append(el("div", { class: "table-note", text: n }));
  return wrap;
}

// ---------- wiring ----------

document.addEventListener("DOMContentLoaded", () => {
  $("new-conversation").addEventListener("click", newConversation);
  $("ask").addEventListener("submit", (e) => {
    e.preventDefault();
    const q = $("question").value;
    $("question").value = "";
    ask(q);
  });
  $("question").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      $("ask").requestSubmit();
    }
  });
  startSignIn();
});

// renderVerified marks an answer built from a question its product's owners
// verified (it was still authorized and audited for this asker).
function renderVerified(text, ans) {
  const v = ans.verified;
  if (!v) return;
  text.after(el("p", { class: "verified", role: "note", title: "Verified question: " + v.question },
    el("span", { class: "verified-mark", text: "✓" }), " Verified by " + v.verified_by + ", " + v.verified_at));
}

// feedbackBar lets the asker rate an answer: good or wrong, with an
// optional comment after "wrong". A later click replaces the earlier one.
function feedbackBar(answer, ans) {
  const turn = answer.closest(".turn");
  const question = turn ? turn.querySelector(".question").textContent : "";
  const up = el("button", { type: "button", class: "fb-up", "aria-pressed": "false", title: "This answer is right", text: "👍 Right" });
  const down = el("button", { type: "button", class: "fb-down", "aria-pressed": "false", title: "This answer is wrong", text: "👎 Wrong" });
  const comment = el("input", { type: "text", class: "fb-comment", maxlength: "2000", placeholder: "What was wrong? (optional)", "aria-label": "What was wrong", hidden: "" });
  const send = el("button", { type: "button", class: "fb-send", text: "Send", hidden: "" });
  const status = el("span", { class: "fb-status", role: "status" });
  const bar = el("div", { class: "feedback" }, el("span", { class: "fb-label", text: "Was this right?" }), up, down, comment, send, status);
  let rating = "";
  async function submit() {
    status.textContent = "Sending…";
    const res = await api("/v1/web/feedback", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ request_id: ans.request_id, conversation_id: ans.conversation_id, rating, comment: comment.value, question, answer: ans.text || "" }),
    }).catch(() => null);
    if (!res || !res.ok) {
      status.textContent = res ? "Not recorded: " + await errorMessage(res) : "Not recorded: the connection failed";
      return;
    }
    const saved = await res.json();
    bar.dataset.saved = saved.rating;
    bar.dataset.audit = saved.audit_id;
    status.textContent = saved.rating === "up" ? "Thanks!" : saved.comment ? "Thanks, sent to the data's owners." : "Thanks. Say what was wrong?";
  }
  function choose(r) {
    rating = r;
    up.setAttribute("aria-pressed", String(r === "up"));
    down.setAttribute("aria-pressed", String(r === "down"));
    comment.hidden = send.hidden = r !== "down";
    submit();
  }
  up.addEventListener("click", () => choose("up"));
  down.addEventListener("click", () => choose("down"));
  send.addEventListener("click", submit);
  comment.addEventListener("keydown", (e) => { if (e.key === "Enter") submit(); });
  return bar;
}
