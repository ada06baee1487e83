// Background jobs shown in a table marked `data-jobs` (the dashboard's reports, a work file's BagIt packages):
// asks for the state of each unfinished job every two seconds and updates its row (progress, state, download
// link, reason of failure) until none is left running. No inline script (CSP).
(function () {
  "use strict";
  var table = document.querySelector("table[data-jobs]");
  if (!table) { return; }
  function pending() {
    return Array.prototype.slice.call(table.querySelectorAll("tr[data-job][data-state='queued'], tr[data-job][data-state='running']"));
  }
  function show(row, job) {
    row.setAttribute("data-state", job.state);
    var progress = row.querySelector("progress");
    if (progress) { progress.value = job.progress; progress.textContent = job.progress + "%"; }
    var pct = row.querySelector(".job-percent");
    if (pct) { pct.textContent = job.progress + "%"; }
    var state = row.querySelector(".job-state");
    if (state) { state.textContent = job.state_label; }
    var cell = row.querySelector(".job-file");
    if (cell && job.download && !cell.querySelector("a")) {
      var link = document.createElement("a");
      link.href = job.download;
      link.textContent = job.file_name;
      cell.textContent = "";
      cell.appendChild(link);
    }
    var error = row.querySelector(".job-error");
    if (error && job.error) { error.textContent = job.error; }
  }
  function poll() {
    var rows = pending();
    if (!rows.length) { return; }
    var left = rows.length;
    rows.forEach(function (row) {
      fetch(row.getAttribute("data-status-url"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (job) { if (job) { show(row, job); } })
        .catch(function () {})
        .then(function () { left -= 1; if (left === 0) { window.setTimeout(poll, 2000); } });
    });
  }
  window.setTimeout(poll, 1000);
})();
