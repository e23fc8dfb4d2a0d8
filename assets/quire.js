// Quire: small enhancements. Every page reads and works without this file.
(function () {
  "use strict";
  // Print buttons stay hidden without script, since they need it.
  document.querySelectorAll("[data-print]").forEach(function (button) {
    var item = button.closest("[hidden]");
    if (item) item.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
