// Quire's paper editor, better with script: a Markdown toolbar (with
// keyboard shortcuts), a live preview beside the text, drafts saved by
// themselves, a warning before leaving unsaved changes, and images added
// by dragging or pasting them into the text. Every action works without
// this file through the editor's own buttons and forms.
(function () {
  "use strict";
  var form = document.getElementById("paper-form");
  var body = document.getElementById("paper-body");
  if (!form || !body || !window.fetch || !window.FormData) return;
  var status = document.getElementById("editor-status");
  var say = function (text) {
    if (status) status.textContent = text;
  };

  // --- Unsaved changes -------------------------------------------------
  var dirty = false;
  var submitting = false;
  form.addEventListener("input", function () { dirty = true; });
  form.addEventListener("submit", function () { submitting = true; });
  window.addEventListener("beforeunload", function (event) {
    if (dirty && !submitting) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  // --- Toolbar ---------------------------------------------------------
  var edit = function (change) {
    var start = body.selectionStart, end = body.selectionEnd;
    var value = body.value, selected = value.slice(start, end);
    var out = change(selected, value.slice(0, start));
    body.setRangeText(out.text, start, end, "end");
    if (out.select) body.setSelectionRange(start + out.select[0], start + out.select[1]);
    body.focus();
    body.dispatchEvent(new Event("input", { bubbles: true }));
  };
  var wrap = function (mark, placeholder) {
    return function (s) {
      var inner = s || placeholder;
      return { text: mark + inner + mark, select: [mark.length, mark.length + inner.length] };
    };
  };
  var linePrefix = function (prefix, placeholder) {
    return function (s, before) {
      var lead = before === "" || before.endsWith("\n") ? "" : "\n";
      var inner = (s || placeholder).split("\n").map(function (l) { return prefix + l; }).join("\n");
      return { text: lead + inner, select: [lead.length + prefix.length, lead.length + inner.length] };
    };
  };
  var footnote = function (s) {
    var used = body.value.match(/\[\^(\d+)\]/g) || [];
    var n = used.reduce(function (m, f) { return Math.max(m, parseInt(f.slice(2), 10) || 0); }, 0) + 1;
    var note = "[^" + n + "]";
    // The note's text goes at the end of the paper.
    var tail = "\n\n" + note + ": " + (s || "The note's text.");
    var value = body.value;
    var at = body.selectionEnd;
    body.value = value + tail;
    body.setSelectionRange(at, at);
    return { text: note };
  };
  var tools = [
    ["Heading", "Heading", linePrefix("## ", "Heading"), null],
    ["Bold", "Bold", wrap("**", "bold text"), "b"],
    ["Italic", "Italic", wrap("*", "italic text"), "i"],
    ["Link", "Link", function (s) {
      var text = s || "link text";
      return { text: "[" + text + "](https://)", select: [text.length + 3, text.length + 11] };
    }, "k"],
    ["Footnote", "Footnote", footnote, null],
    ["Quote", "Quote", linePrefix("> ", "Quoted text"), null],
    ["List", "List", linePrefix("- ", "Item"), null],
    ["Table", "Table", function (s, before) {
      var lead = before === "" || before.endsWith("\n\n") ? "" : before.endsWith("\n") ? "\n" : "\n\n";
      return { text: lead + "| Column | Column |\n|---|---|\n| Cell | Cell |\n", select: [lead.length + 2, lead.length + 8] };
    }, null],
    ["Image", "Image", function (s) {
      var file = document.getElementById("paper-image");
      if (file) {
        setTimeout(function () { file.focus(); }, 0);
        return { text: s };
      }
      return { text: "![" + (s || "What the image shows") + "](name.png)" };
    }, null],
  ];
  var bar = document.createElement("div");
  bar.className = "editor-toolbar";
  bar.setAttribute("role", "toolbar");
  bar.setAttribute("aria-label", "Formatting");
  bar.setAttribute("aria-controls", "paper-body");
  var shortcuts = {};
  tools.forEach(function (t) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "secondary";
    b.textContent = t[1];
    b.setAttribute("aria-label", t[0] + (t[3] ? " (Ctrl+" + t[3].toUpperCase() + ")" : ""));
    b.title = b.getAttribute("aria-label");
    b.addEventListener("click", function () { edit(t[2]); });
    bar.appendChild(b);
    if (t[3]) shortcuts[t[3]] = t[2];
  });
  body.parentNode.insertBefore(bar, body);
  body.addEventListener("keydown", function (e) {
    if ((e.ctrlKey || e.metaKey) && !e.altKey && shortcuts[e.key.toLowerCase()]) {
      e.preventDefault();
      edit(shortcuts[e.key.toLowerCase()]);
    }
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "s") {
      e.preventDefault();
      save(false);
    }
  });

  // --- Live preview: the form posted to a frame beside the text ---------
  var frame = document.createElement("iframe");
  frame.name = "editor-preview";
  frame.title = "Preview of the paper as readers will see it";
  frame.className = "editor-preview";
  frame.hidden = true;
  var toggle = document.createElement("button");
  toggle.type = "button";
  toggle.className = "secondary";
  toggle.textContent = "Show preview beside the text";
  toggle.setAttribute("aria-expanded", "false");
  bar.appendChild(toggle);
  form.querySelector(".editor-main").appendChild(frame);
  var previewing = false, timer = null, scroll = 0;
  var refresh = function () {
    if (!previewing) return;
    try { scroll = frame.contentWindow.scrollY; } catch (e) { scroll = 0; }
    var old = { action: form.action, target: form.target };
    form.action = "/admin/papers/preview";
    form.target = "editor-preview";
    HTMLFormElement.prototype.submit.call(form);
    form.action = old.action;
    form.target = old.target;
  };
  frame.addEventListener("load", function () {
    try { frame.contentWindow.scrollTo(0, scroll); } catch (e) { /* another origin: nothing to keep */ }
  });
  toggle.addEventListener("click", function () {
    previewing = !previewing;
    frame.hidden = !previewing;
    form.classList.toggle("editor-previewing", previewing);
    toggle.setAttribute("aria-expanded", String(previewing));
    toggle.textContent = previewing ? "Hide the preview" : "Show preview beside the text";
    refresh();
  });
  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 800);
  });

  // --- Saving by itself (drafts only: a published paper changes when asked)
  var revision = form.querySelector("input[name=base_revision]");
  var original = form.querySelector("input[name=original]");
  var draft = form.getAttribute("data-status") === "" || form.getAttribute("data-status") === "draft";
  var saving = false;
  var save = function (quiet) {
    if (saving) return;
    saving = true;
    var data = new URLSearchParams(new FormData(form));
    data.set("intent", "save");
    say(quiet ? "Saving the draft…" : "Saving…");
    fetch("/admin/papers/save", {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (r) { return r.json().then(function (j) { return [r, j]; }); })
      .then(function (rj) {
        var r = rj[0], j = rj[1];
        if (r.ok) {
          revision.value = String(j.revision);
          if (!original) {
            original = document.createElement("input");
            original.type = "hidden";
            original.name = "original";
            form.appendChild(original);
            history.replaceState(null, "", "/admin/papers/" + j.slug + "/edit");
          }
          original.value = j.slug;
          dirty = false;
          say("Saved at " + new Date().toLocaleTimeString() + " (revision " + j.revision + ").");
        } else {
          var fields = (j.error && j.error.fields) || [];
          say("Not saved: " + (j.error ? j.error.message : "the server refused it") +
            (fields.length ? " (" + fields.map(function (f) { return f.field + ": " + f.message; }).join("; ") + ")" : ""));
        }
      })
      .catch(function () { say("Not saved: the server could not be reached. Your text is still here."); })
      .then(function () { saving = false; });
  };
  if (draft) {
    setInterval(function () { if (dirty && !submitting) save(true); }, 60000);
  }

  // --- Images dragged or pasted into the text ---------------------------
  var upload = function (file) {
    if (!original || !original.value) {
      say("Save the draft once before adding images.");
      return;
    }
    var description = window.prompt("What does the image " + file.name + " show? (for readers who cannot see it)");
    if (!description || !description.trim()) {
      say("The image was not added: it needs a description.");
      return;
    }
    var data = new FormData();
    data.set("csrf", form.querySelector("input[name=csrf]").value);
    data.set("description", description.trim());
    data.set("image", file, file.name || "pasted.png");
    say("Uploading " + file.name + "…");
    fetch("/admin/papers/" + original.value + "/images", {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (r) { return r.json(); })
      .then(function (j) {
        if (j.markdown) {
          edit(function () { return { text: j.markdown }; });
          say("Image " + j.name + " added.");
        } else {
          say("The image was not added: " + (j.error ? j.error.message : "the server refused it"));
        }
      })
      .catch(function () { say("The image was not added: the server could not be reached."); });
  };
  var images = function (list) {
    return Array.prototype.filter.call(list || [], function (f) { return /^image\//.test(f.type); });
  };
  body.addEventListener("dragover", function (e) {
    if (e.dataTransfer && Array.prototype.indexOf.call(e.dataTransfer.types, "Files") >= 0) e.preventDefault();
  });
  body.addEventListener("drop", function (e) {
    var files = images(e.dataTransfer && e.dataTransfer.files);
    if (files.length) {
      e.preventDefault();
      files.forEach(upload);
    }
  });
  body.addEventListener("paste", function (e) {
    var files = images(e.clipboardData && e.clipboardData.files);
    if (files.length) {
      e.preventDefault();
      files.forEach(upload);
    }
  });
})();
