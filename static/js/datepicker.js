// A small calendar for <input data-datepicker> (eoffice/widgets.py DateInput): the field stays a text input that
// takes dd/mm/yyyy whatever the browser's locale; the calendar writes dd/mm/yyyy into it. No library, no inline
// script or style (the Content-Security-Policy allows neither); styles in static/css/datepicker.css.
// Keyboard: Alt+ArrowDown (or the button) opens; arrows move a day/week, PageUp/PageDown a month,
// Home/End the week, Enter or Space picks, Escape closes. Typing 5/6/2026, 05062026 or 2026-06-05 becomes
// 05/06/2026; on a digits-only keypad (inputmode numeric) the slashes come by themselves.
(function () {
  "use strict";
  if (window.eofficeDatepicker) { return; }
  window.eofficeDatepicker = true;
  var vi = (document.documentElement.lang || "vi").indexOf("en") !== 0;
  var T = vi ? {
    months: ["Tháng 1", "Tháng 2", "Tháng 3", "Tháng 4", "Tháng 5", "Tháng 6", "Tháng 7", "Tháng 8", "Tháng 9",
      "Tháng 10", "Tháng 11", "Tháng 12"],
    days: ["T2", "T3", "T4", "T5", "T6", "T7", "CN"], open: "Chọn ngày", prev: "Tháng trước", next: "Tháng sau",
    today: "Hôm nay", close: "Đóng"
  } : {
    months: ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
      "November", "December"],
    days: ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"], open: "Choose a date", prev: "Previous month",
    next: "Next month", today: "Today", close: "Close"
  };
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function format(d) { return pad(d.getDate()) + "/" + pad(d.getMonth() + 1) + "/" + d.getFullYear(); }
  function parse(text) {
    var m = /^\s*(\d{1,2})[\/.\-](\d{1,2})[\/.\-](\d{4})\s*$/.exec(text || ""), d;
    if (m) { d = new Date(+m[3], +m[2] - 1, +m[1]); return d.getDate() === +m[1] && d.getMonth() === +m[2] - 1 ? d : null; }
    m = /^\s*(\d{4})-(\d{2})-(\d{2})\s*$/.exec(text || "");
    if (m) { d = new Date(+m[1], +m[2] - 1, +m[3]); return d.getDate() === +m[3] ? d : null; }
    return null;
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text) { e.textContent = text; }
    return e;
  }
  function calendarIcon() {  // drawn here: no emoji font is needed on the machine
    var ns = "http://www.w3.org/2000/svg", svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24"); svg.setAttribute("width", "22"); svg.setAttribute("height", "22");
    svg.setAttribute("aria-hidden", "true"); svg.setAttribute("focusable", "false");
    ["M4 6h16v14H4z", "M4 10h16", "M8 3v5", "M16 3v5", "M8 14h2", "M14 14h2", "M8 17h2"].forEach(function (d) {
      var path = document.createElementNS(ns, "path");
      path.setAttribute("d", d); path.setAttribute("fill", "none"); path.setAttribute("stroke", "currentColor");
      path.setAttribute("stroke-width", "2"); path.setAttribute("stroke-linecap", "round");
      svg.append(path);
    });
    return svg;
  }
  var popup = null, input = null, shown = null, focused = null;
  function close(refocus) {
    if (popup) { popup.remove(); popup = null; if (refocus && input) { input.focus(); } input = null; }
  }
  function pick(d) { input.value = format(d); input.dispatchEvent(new Event("change", {bubbles: true})); close(true); }
  function render() {
    popup.textContent = "";
    var head = el("div", "dp-head"), prev = el("button", "dp-nav", "‹"), next = el("button", "dp-nav", "›");
    prev.type = next.type = "button"; prev.setAttribute("aria-label", T.prev); next.setAttribute("aria-label", T.next);
    prev.dataset.move = "-1"; next.dataset.move = "1";
    var title = el("span", "dp-title", T.months[shown.getMonth()] + " " + shown.getFullYear());
    title.setAttribute("aria-live", "polite");
    head.append(prev, title, next); popup.append(head);
    var grid = el("div", "dp-grid"); grid.setAttribute("role", "grid");
    T.days.forEach(function (name) { grid.append(el("span", "dp-dow", name)); });
    var first = new Date(shown.getFullYear(), shown.getMonth(), 1), offset = (first.getDay() + 6) % 7;
    for (var i = 0; i < offset; i++) { grid.append(el("span", "dp-empty")); }
    var today = format(new Date()), chosen = input.value && parse(input.value) ? format(parse(input.value)) : "";
    for (var day = 1; day <= new Date(shown.getFullYear(), shown.getMonth() + 1, 0).getDate(); day++) {
      var d = new Date(shown.getFullYear(), shown.getMonth(), day), b = el("button", "dp-day", String(day));
      b.type = "button"; b.dataset.date = format(d); b.setAttribute("aria-label", format(d));
      b.tabIndex = day === focused.getDate() ? 0 : -1;
      if (b.dataset.date === today) { b.classList.add("dp-today"); }
      if (b.dataset.date === chosen) { b.classList.add("dp-chosen"); b.setAttribute("aria-selected", "true"); }
      grid.append(b);
    }
    popup.append(grid);
    var foot = el("div", "dp-foot"), t = el("button", "dp-link", T.today), c = el("button", "dp-link", T.close);
    t.type = c.type = "button"; t.dataset.pick = "today"; c.dataset.pick = "close"; foot.append(t, c); popup.append(foot);
  }
  function focusDay() {
    if (focused.getMonth() !== shown.getMonth() || focused.getFullYear() !== shown.getFullYear()) {
      shown = new Date(focused.getFullYear(), focused.getMonth(), 1); render();
    }
    var b = popup.querySelector('[data-date="' + format(focused) + '"]');
    popup.querySelectorAll(".dp-day").forEach(function (x) { x.tabIndex = x === b ? 0 : -1; });
    if (b) { b.focus(); }
  }
  function open(target) {
    close(false); input = target;
    focused = parse(input.value) || new Date();
    shown = new Date(focused.getFullYear(), focused.getMonth(), 1);
    popup = el("div", "dp-popup"); popup.setAttribute("role", "dialog"); popup.setAttribute("aria-label", T.open);
    render();
    input.closest(".dp-wrap").append(popup);
    focusDay();
  }
  function enhance(field) {
    if (field.dataset.dpReady) { return; }
    field.dataset.dpReady = "1";
    var wrap = el("span", "dp-wrap"), button = el("button", "dp-open");
    button.append(calendarIcon());
    button.type = "button"; button.setAttribute("aria-label", T.open); button.title = T.open;
    field.parentNode.insertBefore(wrap, field); wrap.append(field, button);
    button.addEventListener("click", function () { if (popup && input === field) { close(true); } else { open(field); } });
    field.addEventListener("keydown", function (e) { if (e.altKey && e.key === "ArrowDown") { e.preventDefault(); open(field); } });
    field.addEventListener("blur", function () {
      var digits = /^(\d{2})(\d{2})(\d{4})$/.exec(field.value.trim()), d;  // 05062026 from a digits-only keypad
      d = parse(digits ? digits[1] + "/" + digits[2] + "/" + digits[3] : field.value);
      if (d) { field.value = format(d); }
    });
    field.addEventListener("input", function (e) {  // a numeric keypad has no "/": added after the day and month
      if (e.inputType === "insertText" && /^(\d{2}|\d{2}\/\d{2})$/.test(field.value)) { field.value += "/"; }
    });
  }
  document.addEventListener("click", function (e) {
    if (!popup) { return; }
    var t = e.target.closest("button");
    if (t && popup.contains(t)) {
      if (t.dataset.move) { shown = new Date(shown.getFullYear(), shown.getMonth() + +t.dataset.move, 1); focused = new Date(shown); render(); }
      else if (t.dataset.date) { pick(parse(t.dataset.date)); }
      else if (t.dataset.pick === "today") { pick(new Date()); }
      else if (t.dataset.pick === "close") { close(true); }
    } else if (!e.target.closest(".dp-wrap")) { close(false); }
  });
  document.addEventListener("keydown", function (e) {
    if (!popup || !popup.contains(document.activeElement)) { return; }
    var step = {ArrowLeft: -1, ArrowRight: 1, ArrowUp: -7, ArrowDown: 7}[e.key];
    if (e.key === "Escape") { e.preventDefault(); close(true); return; }
    if (!document.activeElement.dataset.date) { return; }
    if (step) { focused = new Date(focused.getFullYear(), focused.getMonth(), focused.getDate() + step); }
    else if (e.key === "PageUp" || e.key === "PageDown") {
      focused = new Date(focused.getFullYear(), focused.getMonth() + (e.key === "PageUp" ? -1 : 1), Math.min(focused.getDate(), 28));
    } else if (e.key === "Home" || e.key === "End") {
      var dow = (focused.getDay() + 6) % 7;
      focused = new Date(focused.getFullYear(), focused.getMonth(), focused.getDate() + (e.key === "Home" ? -dow : 6 - dow));
    } else { return; }
    e.preventDefault(); focusDay();
  });
  function init() { document.querySelectorAll("input[data-datepicker]").forEach(enhance); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
