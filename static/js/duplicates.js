// Warns of a possible duplicate while the clerk types the sender's number, notation and body.
(function () {
  var box = document.getElementById("live-duplicate");
  if (!box) return;
  var ids = ["id_code_number", "id_code_notation", "id_organ_name", "id_identifier", "id_issued_date"];
  function value(id) { var el = document.getElementById(id); return el ? el.value.trim() : ""; }
  function check() {
    var params = new URLSearchParams({
      code_number: value("id_code_number"), code_notation: value("id_code_notation"),
      organ_name: value("id_organ_name"), identifier: value("id_identifier"),
      issued_date: value("id_issued_date")
    });
    if (!params.get("identifier") && !(params.get("code_number") && params.get("organ_name"))) { box.hidden = true; return; }
    fetch(box.dataset.url + "?" + params.toString(), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { duplicates: [] }; })
      .then(function (data) {
        var list = box.querySelector(".items");
        list.textContent = "";
        data.duplicates.forEach(function (d, i) {
          var a = document.createElement("a"); a.href = d.url; a.target = "_blank"; a.textContent = d.label;
          if (i) list.appendChild(document.createTextNode("; "));
          list.appendChild(a);
        });
        box.hidden = data.duplicates.length === 0;
      })
      .catch(function () { box.hidden = true; });
  }
  ids.forEach(function (id) { var el = document.getElementById(id); if (el) el.addEventListener("change", check); });
})();
