// Enhancement only: when the visitor's time zone is not the series', say the time in theirs too,
// in words ("Central European Standard Time"), never as an offset ("GMT+1").
(function () {
  "use strict";
  // The page's language as the server writes dates in it ("fr-CA": "13 h 00", not "13:00").
  var lang = document.body.getAttribute("data-date-locale") || document.documentElement.lang || undefined;
  var words = { weekday: "long", year: "numeric", month: "long", day: "numeric",
                hour: "numeric", minute: "2-digit", timeZoneName: "long" };
  document.querySelectorAll("time[data-local]").forEach(function (el) {
    var when = new Date(el.getAttribute("datetime"));
    if (isNaN(when)) { return; }
    var target = document.getElementById(el.getAttribute("data-local"));
    if (!target) { return; }
    var theirs = when.toLocaleString(lang, words);
    var zone = el.getAttribute("data-zone");
    if (zone) {
      try {
        var series = when.toLocaleString(lang, Object.assign({ timeZone: zone }, words));
        if (series === theirs) { return; }  // same clock as the series: nothing to add
      } catch (e) { /* unknown zone: show the visitor's time anyway */ }
    }
    target.textContent = target.getAttribute("data-prefix") + " " + theirs;
    target.hidden = false;
  });
})();

// The report's print button: shown only when the script runs, since it needs it.
(function () {
  "use strict";
  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();

// A form sent back with errors: move focus to the error summary so screen readers read it
// out and keyboard users start from the list of links to the fields.
(function () {
  "use strict";
  var summary = document.querySelector(".error-summary[tabindex='-1']");
  if (summary) { summary.focus(); }
})();

// Registration questions asked only after a given answer: hidden until that answer is chosen.
// Without the script every question shows (its hint says when to answer) and the server decides.
(function () {
  "use strict";
  var dependents = document.querySelectorAll("[data-condition-field]");
  if (!dependents.length) { return; }
  function answers(name) {
    var values = [];
    document.querySelectorAll('[name="' + name + '"]').forEach(function (input) {
      if ((input.type === "radio" || input.type === "checkbox") ? input.checked : input.value.trim() !== "") {
        values.push(input.value);
      }
    });
    return values;
  }
  function update() {
    dependents.forEach(function (block) {
      var given = answers(block.getAttribute("data-condition-field"));
      var wanted = block.getAttribute("data-condition-value");
      block.hidden = wanted ? given.indexOf(wanted) === -1 : given.length === 0;
    });
  }
  document.addEventListener("change", update);
  document.addEventListener("input", update);
  update();
})();
