// The leader's direction form (workflows/_direct_form.html), without inline script:
//   <div data-target="ID"><button data-phrase="...">  inserts the phrase into the textarea ID, selecting "..."
//                                                      in it so the leader types the unit's name over it;
//   <input data-filter="ID">                          shows only the rows of table ID whose data-search matches
//                                                      what is typed (accents ignored); ticked rows stay shown.
// Without JavaScript the form is plain radio buttons and checkboxes, and the filter box stays hidden.
(function () {
  "use strict";

  function fold(text) {
    return (text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[đĐ]/g, "d").toLowerCase();
  }

  function insertPhrase(textarea, phrase) {
    var value = textarea.value;
    var start = textarea.selectionStart === undefined ? value.length : textarea.selectionStart;
    var end = textarea.selectionEnd === undefined ? value.length : textarea.selectionEnd;
    var before = value.slice(0, start);
    var separator = before && !/\s$/.test(before) ? " " : "";
    textarea.value = before + separator + phrase + value.slice(end);
    var at = before.length + separator.length;
    var gap = phrase.indexOf("...");
    textarea.focus();
    if (gap >= 0) {
      textarea.setSelectionRange(at + gap, at + gap + 3);
    } else {
      textarea.setSelectionRange(at + phrase.length, at + phrase.length);
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-phrase]");
    if (!button) { return; }
    var box = button.closest("[data-target]");
    var textarea = box && document.getElementById(box.getAttribute("data-target"));
    if (textarea) {
      event.preventDefault();
      insertPhrase(textarea, button.getAttribute("data-phrase"));
    }
  });

  function filter(input) {
    var table = document.getElementById(input.getAttribute("data-filter"));
    if (!table) { return; }
    var words = fold(input.value).split(/\s+/).filter(Boolean);
    Array.prototype.forEach.call(table.querySelectorAll("tbody"), function (group) {
      var shown = 0;
      Array.prototype.forEach.call(group.querySelectorAll("tr[data-search]"), function (row) {
        var text = fold(row.getAttribute("data-search"));
        var ticked = row.querySelector("input:checked") !== null;
        var match = ticked || words.every(function (word) { return text.indexOf(word) >= 0; });
        row.hidden = !match;
        if (match) { shown += 1; }
      });
      group.hidden = shown === 0;
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("input[data-filter]"), function (input) {
    input.hidden = false;
    input.addEventListener("input", function () { filter(input); });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); }  // typing a name must not submit the direction
    });
  });
})();
