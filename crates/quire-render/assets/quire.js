// Quire: small enhancements. Every page reads and works without this file.
(function () {
  "use strict";
  // Print buttons stay hidden without script, since they need it.
  document.querySelectorAll("[data-print]").forEach(function (button) {
    var item = button.closest("[hidden]");
    if (item) item.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
  // The comment form in a cached page carries the token signed when the
  // page was made; a reader starting to write gets a fresh one, so the
  // form's age is theirs. Without script the page's own token serves.
  document.querySelectorAll("form.comment-form[data-token-url]").forEach(function (form) {
    var fetched = false;
    form.addEventListener("focusin", function () {
      if (fetched || !window.fetch) return;
      fetched = true;
      fetch(form.getAttribute("data-token-url"), { credentials: "same-origin", cache: "no-store" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (token) {
          var field = form.querySelector("input[name=token]");
          if (token && field) field.value = token.trim();
        })
        .catch(function () {});
    });
  });
  // A comment's permalink (#comment-N) names no page: when the comment is
  // on a later one, ask which and go there.
  var wanted = /^#comment-(\d+)$/.exec(location.hash);
  if (wanted && !document.getElementById("comment-" + wanted[1]) && document.getElementById("comments") && window.fetch) {
    var here = location.pathname;
    fetch(here + "comments/page?id=" + wanted[1], { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (page) {
        var n = page && parseInt(page, 10);
        if (n && n > 1 && !/[?&]cpage=/.test(location.search)) location.replace(here + "?cpage=" + n + location.hash);
      })
      .catch(function () {});
  }
  // "Reply" moves the form under the comment instead of loading a page.
  document.querySelectorAll("a[data-reply-to]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var respond = document.getElementById("respond");
      var parent = respond && respond.querySelector("input[name=comment_parent]");
      var comment = link.closest("li.comment");
      if (!respond || !parent || !comment) return;
      event.preventDefault();
      parent.value = link.getAttribute("data-reply-to");
      comment.querySelector("article").after(respond);
      var title = respond.querySelector("#reply-title");
      if (title) title.textContent = link.getAttribute("aria-label");
      var text = respond.querySelector("textarea");
      if (text) text.focus();
    });
  });
})();
