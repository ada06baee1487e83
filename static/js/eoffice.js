// Behaviour of every page, instead of inline handlers (the Content-Security-Policy allows no inline script):
//   <select data-autosubmit>     submits its form when changed (the language selector);
//   <a data-reveal="ID">         shows the hidden element ID (the PDF preview of a document's file);
//   <button data-print>          prints the page (registers, reports).
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var select = event.target.closest && event.target.closest("select[data-autosubmit]");
    if (select && select.form) { select.form.submit(); }
  });
  document.addEventListener("click", function (event) {
    if (!event.target.closest) { return; }
    var reveal = event.target.closest("[data-reveal]");
    if (reveal) {
      var target = document.getElementById(reveal.getAttribute("data-reveal"));
      if (target) { target.hidden = false; }
    }
    if (event.target.closest("[data-print]")) { window.print(); }
  });
})();
