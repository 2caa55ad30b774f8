// askmesh web chat: a live view of new transactions. It reads
// GET /v1/watch/customer-transactions as server-sent events from a fetch
// body (the chat authenticates with a bearer token, which EventSource cannot
// send). Every batch shown went through policy and has its audit record.
// Uses common.js's helpers ($, el, api) and app.js's (readEvents, formatValue,
// NUMERIC, signOut).
"use strict";

const WATCH_PRODUCT = "customer-transactions";
const WATCH_QUESTION = /^\s*(start\s+)?watch(ing)?\s+(the\s+)?new\s+transactions\s*[.!?]?\s*$/i;
const WATCH_MAX_ROWS = 500; // the page keeps the newest rows only

let watching = null; // { abort, view } while a watch is open

function watchButton() { return $("watch-toggle"); }

function setWatchButton(on) {
  const b = watchButton();
  if (!b) return;
  b.textContent = on ? "Stop watching" : "Watch new transactions";
  b.setAttribute("aria-pressed", on ? "true" : "false");
}

function stopWatch(reason) {
  if (!watching) return;
  const w = watching;
  watching = null;
  w.abort.abort();
  w.view.stopped(reason || "Stopped.");
  setWatchButton(false);
}

async function startWatch() {
  if (watching) return;
  const empty = $("empty");
  if (empty) empty.remove();
  const view = newWatchView();
  const abort = new AbortController();
  watching = { abort, view };
  setWatchButton(true);
  try {
    const res = await api("/v1/web/watch/" + encodeURIComponent(WATCH_PRODUCT), {
      headers: { "Accept": "text/event-stream" },
      signal: abort.signal,
    });
    if (res.status === 401) { stopWatch(); signOut(); return; }
    if (!res.ok) {
      let body = null;
      try { body = await res.json(); } catch (_) { /* not JSON */ }
      const e = (body && body.error) || {};
      if (res.status === 403) view.denied({ reason: e.message || "policy does not allow this", audit_id: body && body.audit_id });
      else view.failed(e.message || "request failed with status " + res.status);
      finishWatch(view);
      return;
    }
    view.live();
    await readEvents(res.body, (type, data) => {
      if (type === "records") view.records(data);
      else if (type === "denied") { view.denied(data); finishWatch(view); }
      else if (type === "error") view.failed(data.reason || "the watch failed");
    });
    if (watching && watching.view === view) { view.stopped("The stream ended."); finishWatch(view); }
  } catch (e) {
    if (abort.signal.aborted) return; // stopped on purpose
    view.failed("the connection failed: " + e.message);
    finishWatch(view);
  }
}

// finishWatch forgets a watch that ended by itself.
function finishWatch(view) {
  if (watching && watching.view === view) {
    watching.abort.abort();
    watching = null;
    setWatchButton(false);
  }
}

function newWatchView() {
  const status = el("div", { class: "status watch-status" }, el("span", { class: "spinner" }), el("span", { class: "status-text", text: "Connecting…" }));
  const stop = el("button", { type: "button", class: "watch-stop", text: "Stop" });
  const head = el("div", { class: "watch-head" }, status, stop);
  const summary = el("div", { class: "table-note watch-summary", text: "No new transactions yet." });
  const thead = el("thead");
  const tbody = el("tbody");
  const table = el("div", { class: "table-wrap", hidden: true },
    el("div", { class: "table-title", text: "New transactions · " + WATCH_PRODUCT + " (newest first)" }),
    el("table", { class: "watch-table" }, thead, tbody));
  const answer = el("div", { class: "answer watch", "data-product": WATCH_PRODUCT }, head, summary, table);
  const turn = el("div", { class: "turn" }, el("div", { class: "question", text: "Watch new transactions" }), answer);
  $("messages").append(turn);
  turn.scrollIntoView({ block: "end" });
  stop.addEventListener("click", () => stopWatch("Stopped."));
  let total = 0, batches = 0, columns = null;
  const setStatus = (text, live) => {
    status.querySelector(".status-text").textContent = text;
    status.classList.toggle("live", !!live);
  };
  const end = () => { stop.remove(); const sp = status.querySelector(".spinner"); if (sp) sp.remove(); answer.classList.add("done"); };
  return {
    live() { setStatus("Watching " + WATCH_PRODUCT + " — new transactions appear as they happen, with your permissions.", true); },
    records(b) {
      if (!columns) {
        columns = b.columns || [];
        const tr = el("tr");
        for (const c of columns) tr.append(el("th", { class: NUMERIC.has(c.type) ? "num" : null, text: c.name.replace(/_/g, " ") }));
        tr.append(el("th", { text: "audit" }));
        thead.append(tr);
        table.hidden = false;
      }
      batches++;
      // Oldest first in the batch, so inserting each at the top leaves the newest on top.
      (b.rows || []).forEach((row, r) => {
        const tr = el("tr", { class: "watch-row fresh", "data-audit": b.audit_id });
        row.forEach((v, i) => {
          const c = columns[i] || {};
          // The server's display cells: times as dates, amounts with their currency.
          const shown = b.display && b.display[r] ? b.display[r][i] : formatValue(v);
          tr.append(el("td", { class: NUMERIC.has(c.type) || typeof v === "number" ? "num" : null, "data-col": c.name, text: shown }));
        });
        tr.append(el("td", { class: "audit", title: "audit record of this batch", text: b.audit_id }));
        tbody.prepend(tr);
        total++;
      });
      while (tbody.children.length > WATCH_MAX_ROWS) tbody.lastChild.remove();
      setTimeout(() => { for (const r of tbody.querySelectorAll("tr.fresh")) r.classList.remove("fresh"); }, 1500);
      const masked = Object.keys(b.masked || {});
      summary.textContent = `${total} new transaction${total === 1 ? "" : "s"} in ${batches} batch${batches === 1 ? "" : "es"} · last batch audit ${b.audit_id}` +
        (masked.length ? ` · masked by policy: ${masked.join(", ")}` : "") +
        ((b.notes || []).length ? " · " + b.notes.join(" · ") : "");
    },
    denied(d) {
      end();
      setStatus("Not watching.", false);
      answer.append(el("div", { class: "denials", role: "note" }, el("h3", { text: "Not allowed" }),
        el("p", {}, el("strong", { text: WATCH_PRODUCT + ": " }), (d.reason || "policy does not allow this") + " ",
          d.audit_id ? el("span", { class: "audit", text: "(audit " + d.audit_id + ")" }) : null),
        el("p", { class: "muted", text: "Policy decides on your behalf; ask the product's owner if you need this access." })));
    },
    failed(msg) {
      answer.append(el("p", { class: "failed", role: "alert", text: msg }));
    },
    stopped(msg) {
      end();
      setStatus(msg + (total ? ` ${total} new transaction${total === 1 ? "" : "s"} shown.` : ""), false);
    },
  };
}

document.addEventListener("DOMContentLoaded", () => {
  const b = watchButton();
  if (b) b.addEventListener("click", () => (watching ? stopWatch("Stopped.") : startWatch()));
  for (const id of ["sign-out", "new-conversation"]) {
    const x = $(id);
    if (x) x.addEventListener("click", () => stopWatch("Stopped."));
  }
  // Typing "watch new transactions" starts the live view instead of asking
  // the assistant: captured before app.js's submit handler sees it.
  document.addEventListener("submit", (e) => {
    if (!e.target || e.target.id !== "ask") return;
    const q = $("question");
    if (!WATCH_QUESTION.test(q.value)) return;
    e.preventDefault();
    e.stopImmediatePropagation();
    q.value = "";
    startWatch();
  }, true);
});
