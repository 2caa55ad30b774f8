// askmesh audit review, owners' section: the feedback people gave on a
// product's answers. The server decides who may read it (the product's own
// team, by policy) and records every read; this page shows what it is given.
"use strict";

async function loadFeedback() {
  const product = $("fb-product").value.trim();
  const note = $("fb-note");
  const body = $("fb-table").querySelector("tbody");
  body.replaceChildren();
  if (!product) { note.textContent = "Name a product."; return; }
  const params = new URLSearchParams({ product });
  if ($("fb-rating").value) params.set("rating", $("fb-rating").value);
  const res = await api("/v1/web/feedback?" + params.toString()).catch(() => null);
  if (!res) { note.textContent = "The connection failed."; return; }
  if (!res.ok) { note.textContent = await errorMessage(res); return; }
  const data = await res.json();
  for (const f of data.feedback) {
    body.append(el("tr", { class: "fb-row", "data-rating": f.rating },
      el("td", { text: shortTime(f.at) }),
      el("td", { class: "fb-rating", text: f.rating === "up" ? "👍 right" : "👎 wrong" }),
      el("td", { text: f.subject }),
      el("td", { text: f.channel }),
      el("td", { text: f.question }),
      el("td", { class: "fb-comment-cell", text: f.comment || "" }),
      el("td", { class: "mono", text: (f.audit_ids || []).join(" ") })));
  }
  note.textContent = data.feedback.length + (data.feedback.length === 1 ? " answer rated" : " answers rated") + " · this read is recorded in the audit log";
}

document.addEventListener("DOMContentLoaded", () => {
  $("fb-form").addEventListener("submit", (e) => { e.preventDefault(); loadFeedback(); });
});
