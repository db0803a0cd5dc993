// The console's own script. No inline script anywhere (the Content-Security-Policy forbids it):
// behaviour goes here, or in a page's own file under /static, wired by data- attributes.
(function () {
  "use strict";

  // <form data-confirm="Stop the skill?">: ask before submitting (also for htmx forms, whose
  // hx-confirm works too; this one covers plain forms).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // A session that ended while a page was open: htmx gets 401 with HX-Redirect to /login and
  // follows it; an event stream that is refused stops retrying instead of hammering the server.
  document.addEventListener("htmx:sseError", function (event) {
    var source = event.detail && event.detail.source;
    if (source && source.readyState === 2) { window.location.assign("/login"); }
  });
})();

// Text boxes (broadcast, notices, templates). Which characters force UCS-2, the counts and the
// segments are the server's answer (the counter's data-ucs2, from domain/encoding.py through an
// htmx call); this only paints those characters in the box, inserts a picked field, and turns
// the box's direction as the person chooses. No rule of SMS lives here.
(function () {
  "use strict";

  function boxOf(area) { return area && area.closest ? area.closest("[data-text-box]") : null; }

  function paint(box) {
    var area = box.querySelector("textarea");
    var marks = box.querySelector(".text-box-marks");
    if (!area || !marks) { return; }
    var wanted = [];
    try { wanted = JSON.parse(box.getAttribute("data-ucs2") || "[]"); } catch (e) { wanted = []; }
    var marked = new Set(wanted);
    marks.textContent = "";
    var run = "";
    for (var ch of area.value) {
      if (marked.has(ch)) {
        if (run) { marks.appendChild(document.createTextNode(run)); run = ""; }
        var mark = document.createElement("mark");
        mark.textContent = ch;
        marks.appendChild(mark);
      } else {
        run += ch;
      }
    }
    marks.appendChild(document.createTextNode(run + "\n"));
    marks.setAttribute("dir", area.getAttribute("dir") || "auto");
    marks.scrollTop = area.scrollTop;
  }

  function takeCounters(root) {
    var counters = (root || document).querySelectorAll(".text-counter[data-for]");
    counters.forEach(function (counter) {
      var box = boxOf(document.getElementById(counter.getAttribute("data-for")));
      if (box) {
        box.setAttribute("data-ucs2", counter.getAttribute("data-ucs2") || "[]");
        paint(box);
      }
    });
  }

  document.addEventListener("input", function (event) {
    var box = boxOf(event.target);
    if (box && event.target.tagName === "TEXTAREA") { paint(box); }
  });
  document.addEventListener("scroll", function (event) {
    var box = boxOf(event.target);
    if (box && event.target.tagName === "TEXTAREA") {
      box.querySelector(".text-box-marks").scrollTop = event.target.scrollTop;
    }
  }, true);
  document.addEventListener("htmx:afterSettle", function () { takeCounters(document); });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-text-box]").forEach(paint);
  });

  // <button data-insert="{FirstName}" data-target="f-body">: put the field at the caret.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-insert]") : null;
    if (!button) { return; }
    var area = document.getElementById(button.getAttribute("data-target"));
    if (!area) { return; }
    var text = button.getAttribute("data-insert");
    var start = area.selectionStart, end = area.selectionEnd;
    area.setRangeText(text, start, end, "end");
    area.focus();
    area.dispatchEvent(new Event("input", { bubbles: true }));
  });

  // <button data-replace-field="FirstNme" data-with="FirstName" data-target="f-message">: the
  // server's did-you-mean, taken: every {FirstNme} in the box becomes {FirstName}.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-replace-field]") : null;
    if (!button) { return; }
    var area = document.getElementById(button.getAttribute("data-target"));
    if (!area) { return; }
    var wrong = button.getAttribute("data-replace-field").replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    var pattern = new RegExp("\\{\\s*" + wrong + "\\s*\\}", "g");
    area.value = area.value.replace(pattern, "{" + button.getAttribute("data-with") + "}");
    area.focus();
    area.dispatchEvent(new Event("input", { bubbles: true }));
  });

  // <form data-clears-on-edit="#dry-run">: a change to the form drops what was shown for its
  // values before (a dry run is for the text it was run on), at once rather than when the
  // next check answers, which could come after a newer dry run.
  function clearOnEdit(event) {
    var form = event.target.closest ? event.target.closest("[data-clears-on-edit]") : null;
    var shown = form && document.querySelector(form.getAttribute("data-clears-on-edit"));
    if (shown) { shown.textContent = ""; }
  }
  document.addEventListener("input", clearOnEdit);
  document.addEventListener("change", clearOnEdit);

  // <input type="radio" data-sets-dir="f-body" value="rtl">: the box reads in that direction.
  document.addEventListener("change", function (event) {
    var target = event.target.getAttribute && event.target.getAttribute("data-sets-dir");
    if (!target || !event.target.checked) { return; }
    var area = document.getElementById(target);
    if (area) {
      area.setAttribute("dir", event.target.value);
      var box = boxOf(area);
      if (box) { paint(box); }
    }
  });
})();
