// The "Signing..." box of the draft page (workflows/signing_panel.html): asks the draft's signing state every
// two seconds while a signature is being applied and shows the result or the error in place, without reloading.
(function () {
  "use strict";
  var box = document.querySelector(".signing-progress[data-state-url]");
  if (!box) { return; }
  var text = box.querySelector(".signing-progress-text");
  var url = box.getAttribute("data-state-url");
  var tries = 0;
  function finish(data) {
    box.classList.add(data.state === "done" ? "signing-done" : "signing-failed");
    var spinner = box.querySelector(".spinner");
    if (spinner) { spinner.remove(); }
    text.textContent = data.message;
    var again = document.createElement("a");
    again.className = "btn";
    again.href = window.location.pathname;
    again.textContent = box.getAttribute("data-reload-label");
    box.appendChild(again);
  }
  function poll() {
    tries += 1;
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data && !data.running && data.state !== "none") { finish(data); return; }
        if (data && data.message) { text.textContent = data.message; }
        window.setTimeout(poll, tries < 30 ? 2000 : 5000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
