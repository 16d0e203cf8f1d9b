// Progressive help for the booking and manage pages; every page works without it.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    // After a refused form, take keyboard and screen-reader users to the list of problems.
    var summary = document.getElementById("error-summary");
    if (summary) {
      summary.focus();
    }
    // A second click while the first submission travels would send the form twice.
    document.querySelectorAll("form[data-submit-once]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (form.dataset.sent) {
          event.preventDefault();
          return;
        }
        form.dataset.sent = "1";
        form.querySelectorAll("button[type=submit]").forEach(function (button) {
          button.setAttribute("aria-disabled", "true");
        });
      });
    });
  });
})();
