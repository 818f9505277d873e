// runwright dashboard: keep the page live, confirm risky actions. No dependencies.
(function () {
  "use strict";
  var main = document.getElementById("main");
  var live = document.getElementById("live");
  var lastTag = null;

  function editing() {
    var el = document.activeElement;
    if (el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT")) {
      return true;
    }
    // a field still holding text nobody sent yet (a note typed, then clicked away from)
    var fields = main.querySelectorAll("textarea, input[type=text]");
    for (var i = 0; i < fields.length; i++) {
      if (fields[i].value !== fields[i].defaultValue) { return true; }
    }
    return false;
  }

  function keepOpen(html) {
    // <details> a person opened stay open when the part is swapped in
    var open = [];
    var shown = main.querySelectorAll("details[open]");
    for (var i = 0; i < shown.length; i++) {
      if (shown[i].id) { open.push(shown[i].id); }
    }
    main.innerHTML = html;
    for (var j = 0; j < open.length; j++) {
      var el = document.getElementById(open[j]);
      if (el) { el.open = true; }
    }
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
            if (tag !== lastTag) { keepOpen(html); lastTag = tag; bind(); }
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
