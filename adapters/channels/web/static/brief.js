// The executive brief as a page, and the server-drawn charts: an answer
// with a brief (ans.brief) reads headline, metric cards, what moved them,
// unusual records, and what is withheld, in that order; the calls, tables
// and text behind it fold into one "Sources" disclosure. Charts and
// sparklines come drawn by the server (ans.render, SVG from gonum/plot);
// they are parsed as SVG, never as HTML, and their styles are presentation
// attributes, which the page's Content-Security-Policy allows.
"use strict";

const ARROWS = { up: "▲", down: "▼", flat: "▶" };

// svgNode parses a server-drawn SVG document into a node for the page.
function svgNode(text, cls, label) {
  if (!text) return null;
  const doc = new DOMParser().parseFromString(text, "image/svg+xml");
  const root = doc.documentElement;
  if (!root || root.nodeName !== "svg" || doc.getElementsByTagName("parsererror").length) return null;
  const node = document.importNode(root, true);
  node.removeAttribute("width");
  node.removeAttribute("height");
  node.setAttribute("class", cls);
  node.setAttribute("role", "img");
  node.setAttribute("aria-label", label || "chart");
  return node;
}

// serverChart shows chart i of an answer as the server drew it: the wide
// drawing on wide screens, the narrow one on phones (CSS picks).
function serverChart(spec, drawn) {
  const wide = svgNode(drawn.wide, "chart chart-wide", spec.title);
  const narrow = svgNode(drawn.narrow, "chart chart-narrow", spec.title);
  if (!wide) return null;
  return el("figure", { class: "chart-card server-chart" }, wide, narrow);
}

function card(c, spark) {
  const dir = c.direction || "";
  return el("div", { class: "card", "data-product": c.product, "data-metric": c.metric },
    el("div", { class: "card-label", text: c.label }),
    el("div", { class: "card-product", text: c.product }),
    el("div", { class: "card-value", text: c.value }),
    c.change ? el("div", { class: "card-change " + dir, title: c.previous ? "previous period: " + c.previous : "" },
      el("span", { class: "arrow", "aria-hidden": "true", text: ARROWS[dir] || "" }), " " + c.change,
      c.previous ? el("span", { class: "card-prev", text: " from " + c.previous }) : null) : null,
    spark ? el("div", { class: "card-spark", title: (c.trend || []).map((p) => p.label + ": " + p.shown + (p.partial ? " (so far)" : "")).join("\n") },
      svgNode(spark, "sparkline", c.label + ", last " + (c.trend || []).length + " months")) : null,
    el("div", { class: "card-audit", text: "audit " + (c.source && c.source.audit_id || "") }));
}

function section(title, cls, ...children) {
  return el("section", { class: "brief-section " + cls }, el("h3", { text: title }), ...children);
}

// renderBrief lays out ans.brief in answer; it returns true when it did,
// and the rest of the answer is then folded into the sources disclosure.
function renderBrief(answer, text, ans) {
  const b = ans.brief;
  if (!b) return false;
  const render = ans.render || {};
  const page = el("article", { class: "brief", "aria-label": "Executive brief" });
  page.append(el("p", { class: "brief-headline", text: b.headline }));
  if ((b.cards || []).length) {
    const cards = el("div", { class: "cards" });
    b.cards.forEach((c, i) => cards.append(card(c, (render.sparklines || [])[i])));
    page.append(cards);
  }
  if ((b.notes || []).length) page.append(el("p", { class: "brief-notes", text: b.notes.join(" ") }));
  if ((b.movers || []).length) {
    const list = el("ul");
    for (const m of b.movers) {
      list.append(el("li", {}, el("strong", { text: m.group }), " led " + m.product + "'s " + m.metric + " (" + m.value + ")",
        m.detail ? el("span", { class: "muted", text: "; " + m.detail }) : null));
    }
    page.append(section("What moved it", "movers", list));
  }
  if ((b.anomalies || []).length) {
    const list = el("ul");
    for (const a of b.anomalies) list.append(el("li", {}, el("strong", { text: a.product + ": " }), a.text));
    page.append(section("Anomalies", "anomalies", list));
  }
  if ((b.withheld || []).length) {
    const list = el("ul");
    for (const w of b.withheld) list.append(el("li", {}, el("strong", { text: w.what }), " — " + w.reason));
    page.append(section("Withheld from you", "withheld", list));
  }
  const s = b.sources || {};
  const calls = answer.querySelector(".calls");
  const more = el("details", { class: "brief-sources" },
    el("summary", { text: `Sources: ${s.queries || 0} ${s.queries === 1 ? "query" : "queries"}, ${s.withheld || 0} withheld` }));
  text.before(page);
  page.after(more);
  if (calls) more.append(calls);
  more.append(text);
  for (const t of ans.tables || []) more.append(renderTable(t));
  if (ans.request_id) more.before(feedbackBar(answer, ans));
  // app.js: "How was this computed?", under every answer.
  if ((ans.computed || []).length || (ans.provenance || []).length) answer.append(howComputed(ans));
  renderText(text, ans.text || "");
  return true;
}
