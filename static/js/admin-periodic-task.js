/* The periodic task form of the admin: under the crontab field, say the chosen schedule in
   words (django-celery-beat passes them as JSON beside this script). Text only, never HTML. */
(function () {
  "use strict";

  var script = document.currentScript;
  var source = document.getElementById("readable-crontabs");
  var field = document.getElementById("id_crontab");
  var help = document.querySelector(".field-crontab .help");
  if (!script || !source || !field) {
    return;
  }
  var readable = JSON.parse(source.textContent);
  var original = script.getAttribute("data-help") || "";

  document.querySelectorAll(".field-crontab_translation").forEach(function (row) {
    row.style.display = "none";
  });

  function update() {
    if (!help) {
      return;
    }
    help.textContent = original;
    var words = readable[field.value];
    if (words) {
      help.appendChild(document.createElement("br"));
      help.appendChild(document.createTextNode("Translation: " + words));
    }
  }

  field.addEventListener("change", update);
})();
