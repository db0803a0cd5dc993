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
