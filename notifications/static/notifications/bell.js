// The header's bell (notifications/_bell.html): keeps the unread count current without reloading the page by
// asking the server every 45 seconds (and when the tab becomes visible again). A static file: the
// Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var EVERY_MS = 45000;
  var bell = document.querySelector("a[data-bell-url]");
  if (!bell || !window.fetch) { return; }
  var badge = bell.querySelector("[data-bell-count]");
  var timer = null;

  function show(count) {
    badge.textContent = String(count);
    badge.hidden = count < 1;
    bell.classList.toggle("has-unread", count > 0);
  }

  function poll() {
    if (document.hidden) { return; }
    fetch(bell.getAttribute("data-bell-url"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (response.status === 401 || response.status === 403 || response.redirected) {
          window.clearInterval(timer);  // logged out: stop asking
          return null;
        }
        return response.ok ? response.json() : null;
      })
      .then(function (data) { if (data && typeof data.unread === "number") { show(data.unread); } })
      .catch(function () { /* offline for a moment: the next poll tries again */ });
  }

  timer = window.setInterval(poll, EVERY_MS);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { poll(); } });
})();
