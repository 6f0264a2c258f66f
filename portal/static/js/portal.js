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
