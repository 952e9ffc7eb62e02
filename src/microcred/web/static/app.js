// microcred: progressive enhancement only; every page works without this file.
"use strict";
(function () {
  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  // Drop a file onto a drop zone: it fills the zone's file input.
  $all("[data-drop]").forEach(function (zone) {
    var input = $("input[type=file]", zone);
    ["dragenter", "dragover"].forEach(function (t) { zone.addEventListener(t, function (e) { e.preventDefault(); zone.classList.add("over"); }); });
    ["dragleave", "drop"].forEach(function (t) { zone.addEventListener(t, function () { zone.classList.remove("over"); }); });
    zone.addEventListener("drop", function (e) {
      e.preventDefault();
      if (input && e.dataTransfer && e.dataTransfer.files.length) { input.files = e.dataTransfer.files; }
    });
  });

  // Select the whole public link on focus, so it is easy to copy; a Copy button copies it.
  $all("input[data-copy]").forEach(function (input) { input.addEventListener("focus", function () { input.select(); }); });
  $all("[data-copy-from]").forEach(function (button) {
    button.addEventListener("click", function () {
      var input = document.getElementById(button.getAttribute("data-copy-from"));
      if (!input) { return; }
      var done = function () { button.textContent = "Copied"; };
      input.select();
      if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); }); }
      else { document.execCommand("copy"); done(); }
    });
  });

  // A verification result is what the visitor came for: bring it into view (the form sits above it on phones).
  var result = $("#result");
  if (result) { result.focus({ preventScroll: true }); result.scrollIntoView({ block: "start" }); }

  // Ask before an action that cannot be undone (revoking): <form data-confirm="...">.
  $all("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (e) { if (!window.confirm(form.getAttribute("data-confirm"))) { e.preventDefault(); } });
  });

  // Bulk job progress: poll the job until it finishes.
  var job = $("[data-job]");
  if (job) {
    var poll = function () {
      fetch(job.getAttribute("data-job"), { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (j) {
          ["processed", "issued", "skipped", "failed", "state"].forEach(function (k) { var el = $("[data-field=" + k + "]"); if (el) { el.textContent = j[k]; } });
          var bar = $("progress", job); if (bar && j.total) { bar.max = j.total; bar.value = j.processed; }
          if (j.state === "running") { setTimeout(poll, 700); } else { window.location.reload(); }
        })
        .catch(function () { setTimeout(poll, 2000); });
    };
    if (job.getAttribute("data-state") === "running") { setTimeout(poll, 500); }
  }

  // Designer: live EU meter and preview, skill typeahead.
  var designer = $("#designer");
  if (designer) {
    var timer = null;
    var preview = $("#preview");
    var refresh = function () {
      var data = new FormData(designer);
      fetch("/console/microcredentials/preview", { method: "POST", body: data, credentials: "same-origin" })
        .then(function (r) { return r.text(); })
        .then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var body = doc.body.firstElementChild;
          var meter = $("#eu-meter"), incoming = doc.querySelector("[data-eu-done]");
          if (preview && body) { preview.replaceChildren(body); }
          if (meter && incoming) {
            meter.value = Number(incoming.getAttribute("data-eu-done"));
            $("#eu-text").textContent = incoming.getAttribute("data-eu-text");
          }
        });
    };
    designer.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(refresh, 300); });

    var search = $("#skill-search"), list = $("#skill-suggestions"), rows = $("#skill-rows");
    if (search && list && rows) {
      search.addEventListener("input", function () {
        var q = search.value.trim();
        if (q.length < 2) { list.replaceChildren(); return; }
        fetch("/console/skills.json?q=" + encodeURIComponent(q), { credentials: "same-origin" })
          .then(function (r) { return r.json(); })
          .then(function (found) {
            list.replaceChildren();
            found.forEach(function (s) {
              var li = document.createElement("li"), b = document.createElement("button");
              b.type = "button"; b.textContent = s.label + " (" + s.framework + ")";
              b.addEventListener("click", function () { addSkill(s.uri, s.label); list.replaceChildren(); search.value = ""; search.focus(); });
              li.appendChild(b); list.appendChild(li);
            });
            $("#skill-status").textContent = found.length + " suggestions";
          });
      });
    }
    var addSkill = function (uri, label) {
      var empty = $all(".skill-row", rows).filter(function (r) { return !$("input[name=skill_uri]", r).value; })[0];
      if (!empty) {
        empty = $(".skill-row", rows).cloneNode(true);
        $all("input", empty).forEach(function (i) { i.value = ""; i.id = ""; });
        $all("label", empty).forEach(function (l) { l.removeAttribute("for"); });
        rows.appendChild(empty);
      }
      $("input[name=skill_uri]", empty).value = uri;
      $("input[name=skill_label]", empty).value = label;
      designer.dispatchEvent(new Event("input"));
    };
  }
})();
