// Rendered pages of a PDF (documents/_pdf_pages.html): a page the server could not draw becomes a short
// message pointing to the PDF instead of a broken image.
(function () {
  "use strict";
  document.addEventListener("error", function (event) {
    var image = event.target;
    if (!image || image.tagName !== "IMG" || !image.closest) { return; }
    var section = image.closest(".pdf-pages");
    var figure = image.closest(".pdf-page");
    if (!section || !figure || figure.classList.contains("pdf-page-failed")) { return; }
    figure.classList.add("pdf-page-failed");
    var note = document.createElement("p");
    note.className = "pdf-pages-error";
    note.textContent = section.getAttribute("data-page-error");
    figure.replaceChild(note, image.parentNode);
  }, true);
})();
