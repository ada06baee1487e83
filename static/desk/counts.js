// The menu's counts of the work waiting (templates/base.html, [data-desk-counts-url]): asks /desk/counts/ every
// 60 seconds and when the tab becomes visible again, and updates each [data-desk-count="<key>"] badge. A static
// file: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var EVERY_MS = 60000;
  var root = document.querySelector("[data-desk-counts-url]");
  if (!root || !window.fetch) { return; }
  var timer = null;

  function show(data) {
    var badges = document.querySelectorAll("[data-desk-count]");
    for (var i = 0; i < badges.length; i++) {
      var value = data[badges[i].getAttribute("data-desk-count")];
      if (typeof value !== "number") { continue; }
      badges[i].textContent = String(value);
      // The total's badge hides itself at zero; a kind's whole link (data-desk-kind) does.
      var link = badges[i].closest("[data-desk-kind]");
      (link || badges[i]).hidden = value < 1;
    }
    var whenAny = document.querySelectorAll("[data-desk-when-any]");
    for (var j = 0; j < whenAny.length; j++) { whenAny[j].hidden = data.total < 1; }
  }

  function poll() {
    if (document.hidden) { return; }
    fetch(root.getAttribute("data-desk-counts-url"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (response.status === 401 || response.status === 403 || response.redirected) {
          window.clearInterval(timer);  // logged out: stop asking
          return null;
        }
        return response.ok ? response.json() : null;
      })
      .then(function (data) { if (data && typeof data.total === "number") { show(data); } })
      .catch(function () { /* offline for a moment: the next poll tries again */ });
  }

  timer = window.setInterval(poll, EVERY_MS);
  // Error pages render the menu without counting (data-desk-deferred): ask at once.
  if (root.hasAttribute("data-desk-deferred")) { poll(); }
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { poll(); } });
})();
