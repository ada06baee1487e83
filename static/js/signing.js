// Follows signing requests that are queued or being signed, without reloading; reloads once one ends.
(function () {
  "use strict";
  var watched = Array.prototype.slice.call(document.querySelectorAll("[data-signing-status]"));
  if (!watched.length) { return; }
  function poll() {
    var pending = watched.map(function (element) {
      return fetch(element.getAttribute("data-signing-status"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) { return false; }
          var state = element.querySelector(".signing-state");
          if (state) { state.textContent = data.state_display; }
          return data.state === "done" || data.state === "failed";
        })
        .catch(function () { return false; });
    });
    Promise.all(pending).then(function (finished) {
      if (finished.some(Boolean)) { window.location.reload(); } else { window.setTimeout(poll, 2000); }
    });
  }
  window.setTimeout(poll, 1500);
})();
