// runwright dashboard: keep the page live, confirm risky actions. No dependencies.
(function () {
  "use strict";
  var main = document.getElementById("main");
  var live = document.getElementById("live");
  var lastTag = null;

  function editing() {
    var el = document.activeElement;
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT");
  }

  function poll() {
    var every = parseInt(main.getAttribute("data-poll") || "0", 10);
    if (!every) { live.classList.add("off"); return; }
    setTimeout(function () {
      if (document.hidden || editing()) { poll(); return; }
      fetch(window.location.href, { headers: { "X-Fragment": "1" }, credentials: "same-origin" })
        .then(function (r) {
          if (!r.ok) { throw new Error(String(r.status)); }
          var tag = r.headers.get("ETag");
          return r.text().then(function (html) {
            if (tag !== lastTag) { main.innerHTML = html; lastTag = tag; bind(); }
            live.classList.remove("stale");
          });
        })
        .catch(function () { live.classList.add("stale"); })
        .then(poll);
    }, every);
  }

  function bind() {
    var forms = document.querySelectorAll("form[data-confirm]");
    for (var i = 0; i < forms.length; i++) {
      forms[i].onsubmit = function (ev) {
        if (!window.confirm(this.getAttribute("data-confirm"))) { ev.preventDefault(); }
      };
    }
  }

  bind();
  poll();
})();
