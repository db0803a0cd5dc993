// The agent workspace's cues for a new customer reply: "(n) " before the page title until the
// agent is back on the page, and a short sound (browsers allow sound only after a first user
// gesture on the page, so it is armed by the first click or key press).
(function () {
  "use strict";
  var baseTitle = document.title;
  var unseen = 0;
  var armed = false;
  var sound = document.getElementById("reply-sound");
  var toggle = document.getElementById("sound-toggle");
  var soundOn = window.localStorage.getItem("psms-reply-sound") !== "off";

  function showToggle() {
    if (toggle) { toggle.textContent = soundOn ? "Sound: on" : "Sound: off"; }
  }

  function seen() {
    if (unseen && document.visibilityState === "visible") {
      unseen = 0;
      document.title = baseTitle;
    }
  }

  function arm() { armed = true; }

  function cue(count) {
    unseen += count;
    document.title = "(" + unseen + ") " + baseTitle;
    if (armed && soundOn && sound) {
      sound.currentTime = 0;
      var played = sound.play();
      document.body.dataset.replySounds = String(Number(document.body.dataset.replySounds || 0) + 1);
      if (played && played.catch) { played.catch(function () { /* blocked: title cue only */ }); }
    }
  }

  document.body.addEventListener("htmx:sseMessage", function (event) {
    var message = event.detail;
    if (message && message.type === "reply") { cue(Number(message.data) || 1); }
    if (message && message.type === "gone") {
      var notice = document.getElementById("thread-gone");
      if (notice) { notice.classList.remove("hidden"); }
      var send = document.querySelector("#answer-form button[type=submit]");
      if (send) { send.disabled = true; }
    }
  });
  ["pointerdown", "keydown"].forEach(function (name) {
    document.addEventListener(name, function () { arm(); seen(); }, true);
  });
  document.addEventListener("visibilitychange", seen);
  window.addEventListener("focus", seen);
  if (toggle) {
    toggle.addEventListener("click", function () {
      soundOn = !soundOn;
      window.localStorage.setItem("psms-reply-sound", soundOn ? "on" : "off");
      showToggle();
    });
  }
  showToggle();

  // Ctrl+Enter (Cmd+Enter) sends the answer.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) &&
        event.target && event.target.id === "answer-text") {
      event.preventDefault();
      var form = document.getElementById("answer-form");
      if (form) { form.requestSubmit(); }
    }
  });
}());
