// Upload forms and the column mapping (no inline script: the CSP forbids it).
// - <input type="file" data-max-bytes="N" data-max-text="256 MB">: a file over the limit is
//   refused here, before a byte is sent, with the same words the server uses; the server checks
//   again whatever this says.
// - <select class="mapping-choice" data-custom="ID">: the custom field's input shows only while
//   "Custom field…" is chosen.
(function () {
  "use strict";

  function sizeText(bytes) {
    if (bytes >= 1048576) { return (bytes / 1048576).toPrecision(4).replace(/\.?0+$/, "") + " MB"; }
    if (bytes >= 1024) { return (bytes / 1024).toPrecision(4).replace(/\.?0+$/, "") + " KB"; }
    return bytes + " bytes";
  }

  function tooLarge(input) {
    var limit = parseInt(input.getAttribute("data-max-bytes"), 10);
    var file = input.files && input.files[0];
    if (!limit || !file || file.size <= limit) { return null; }
    return "the file is larger than the upload limit of " + input.getAttribute("data-max-text") +
      " (it has " + sizeText(file.size) + ")";
  }

  function show(input, message) {
    var box = document.querySelector('[data-for="' + input.id + '"]');
    if (!box) { return; }
    box.textContent = message || "";
    box.classList.toggle("hidden", !message);
    input.closest(".field").classList.toggle("has-error", !!message);
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("input[type=file][data-max-bytes]")) {
      show(target, tooLarge(target));
    }
    if (target.matches && target.matches("select.mapping-choice")) { toggleCustom(target); }
  });

  document.addEventListener("submit", function (event) {
    var inputs = event.target.querySelectorAll("input[type=file][data-max-bytes]");
    for (var i = 0; i < inputs.length; i++) {
      var message = tooLarge(inputs[i]);
      if (message) {
        show(inputs[i], message);
        event.preventDefault();
        event.stopImmediatePropagation();
        return;
      }
    }
  }, true);

  function toggleCustom(select) {
    var input = document.getElementById(select.getAttribute("data-custom"));
    if (input) { input.classList.toggle("invisible", select.value !== "custom"); }
  }

  function init() {
    var selects = document.querySelectorAll("select.mapping-choice");
    for (var i = 0; i < selects.length; i++) { toggleCustom(selects[i]); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else { init(); }
})();
