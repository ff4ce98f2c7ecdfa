// Écoute inbox: keyboard work on the queues and bulk picking. No framework; htmx does the requests.
// Keys (outside text fields): j / k next / previous item, o open the thread, r reply, e done,
// h hide, x pick for a bulk action, / search. After an action the focus stays at the same place.
(function () {
  "use strict";
  const ITEM = "article.item, .card.focus";
  const KEY = "ecoute-inbox-focus";

  function items() { return Array.from(document.querySelectorAll(ITEM)); }
  function current() {
    const active = document.activeElement;
    return active ? active.closest(ITEM) : null;
  }
  function focusItem(index) {
    const list = items();
    if (!list.length) return;
    const item = list[Math.max(0, Math.min(index, list.length - 1))];
    item.focus({ preventScroll: true });
    const box = item.getBoundingClientRect();
    if (box.top < 60 || box.bottom > window.innerHeight) item.scrollIntoView({ block: "center" });
  }
  function press(item, selector) {
    const target = item && item.querySelector(selector);
    if (target) { target.click(); return true; }
    return false;
  }
  function typing(event) {
    const tag = (event.target.tagName || "").toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || event.target.isContentEditable;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event)) return;
    const list = items();
    const item = current();
    const at = item ? list.indexOf(item) : -1;
    let done = true;
    switch (event.key) {
      case "j": focusItem(at + 1); break;
      case "k": focusItem(at < 0 ? 0 : at - 1); break;
      case "o": done = press(item, "[data-action=open-thread]"); break;
      case "e": done = press(item, "[data-action=done]"); break;
      case "h": done = press(item, "button[data-action=hide]"); break;
      case "x": done = press(item, "input.pick"); break;
      case "r": {
        const reply = item && item.querySelector("details.reply");
        if (reply) { reply.open = true; const box = reply.querySelector("textarea"); if (box) box.focus(); } else done = false;
        break;
      }
      case "/": {
        const search = document.querySelector("input[name=q]");
        if (search) search.focus(); else done = false;
        break;
      }
      default: done = false;
    }
    if (done) event.preventDefault();
  });

  // Keep the place: remember which item had the focus when an action starts, focus the item now there.
  document.addEventListener("submit", function (event) {
    const item = event.target.closest ? event.target.closest(ITEM) : null;
    const index = item ? items().indexOf(item) : -1;
    try { sessionStorage.setItem(KEY, String(index)); } catch (e) { /* private mode */ }
  }, true);
  function restore() {
    let index = -1;
    try { index = parseInt(sessionStorage.getItem(KEY) || "-1", 10); sessionStorage.removeItem(KEY); } catch (e) { /* ignore */ }
    if (index >= 0) focusItem(index);
    bulk();
  }
  document.addEventListener("htmx:afterSettle", restore);
  document.addEventListener("DOMContentLoaded", restore);

  // A card the pointer or the focus rests on: its thread is read ahead, so opening it is instant.
  const warmed = new Set();
  function warm(event) {
    const item = event.target.closest ? event.target.closest("article.item") : null;
    if (!item || warmed.has(item.dataset.id)) return;
    warmed.add(item.dataset.id);
    fetch("/threads/" + encodeURIComponent(item.dataset.id) + "/warm", { credentials: "same-origin" }).catch(function () {});
  }
  document.addEventListener("mouseover", warm);
  document.addEventListener("focusin", warm);

  // Bulk picking: "all" ticks every item of the page; the bar says how many are picked.
  function bulk() {
    const all = document.querySelector("[data-pick-all]");
    const picks = Array.from(document.querySelectorAll("input.pick"));
    const label = document.querySelector("[data-picked]");
    if (!all || !label) return;
    const help = label.dataset.help || label.textContent;
    label.dataset.help = help;
    function count() {
      const n = picks.filter(function (p) { return p.checked; }).length;
      label.textContent = n ? (label.dataset.pickedText || "{n}").replace("{n}", String(n)) : help;
    }
    all.onchange = function () { picks.forEach(function (p) { p.checked = all.checked; }); count(); };
    picks.forEach(function (p) { p.onchange = count; });
    count();
  }
})();
