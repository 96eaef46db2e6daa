// Search suggestions (header box and compare's add box), the "/" shortcut, filter forms that apply on
// change, highlighted models on Bokeh plots, and the page title following the explorer's state.
(function () {
  "use strict";

  // ------------------------------------------------------------ suggestions
  function attachSuggestions(input, list, options) {
    var items = [], active = -1, timer = null, pending = null;

    function close() {
      list.hidden = true; list.innerHTML = ""; items = []; active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function mark(index) {
      var nodes = list.querySelectorAll("li");
      nodes.forEach(function (node, i) { node.setAttribute("aria-selected", i === index ? "true" : "false"); });
      active = index;
      if (index >= 0 && nodes[index]) { input.setAttribute("aria-activedescendant", nodes[index].id); }
    }

    function render(results, query) {
      list.innerHTML = ""; items = results.slice();
      results.forEach(function (r, i) {
        var li = document.createElement("li");
        li.id = list.id + "-" + i; li.setAttribute("role", "option");
        li.textContent = r.name;
        var small = document.createElement("small");
        small.textContent = r.kind + " · " + r.detail;
        li.appendChild(small);
        li.addEventListener("mousedown", function (e) { e.preventDefault(); options.pick(r, query); });
        list.appendChild(li);
      });
      if (options.all) {
        var all = document.createElement("li");
        all.id = list.id + "-all"; all.className = "all"; all.setAttribute("role", "option");
        all.textContent = results.length ? "All results for \u201c" + query + "\u201d" : "No quick match: search for \u201c" + query + "\u201d";
        all.addEventListener("mousedown", function (e) { e.preventDefault(); options.all(query); });
        list.appendChild(all);
        items.push(null);
      }
      list.hidden = items.length === 0;
      input.setAttribute("aria-expanded", list.hidden ? "false" : "true");
      mark(-1);
    }

    function lookup() {
      var query = input.value.trim();
      if (!query) { close(); return; }
      if (pending) { pending.abort(); }
      pending = new AbortController();
      fetch(options.endpoint + "?limit=30&q=" + encodeURIComponent(query), { signal: pending.signal })
        .then(function (response) { return response.ok ? response.json() : { results: [] }; })
        .then(function (body) {
          var results = body.results.filter(function (r) { return !options.kinds || options.kinds.indexOf(r.kind) >= 0; });
          render(results.slice(0, 8), query);
        })
        .catch(function () { /* aborted by a newer keystroke */ });
    }

    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(lookup, 120); });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
    input.addEventListener("keydown", function (e) {
      if (list.hidden) { return; }
      if (e.key === "ArrowDown") { e.preventDefault(); mark((active + 1) % items.length); }
      else if (e.key === "ArrowUp") { e.preventDefault(); mark(active <= 0 ? items.length - 1 : active - 1); }
      else if (e.key === "Escape") { close(); }
      else if (e.key === "Enter" && active >= 0) {
        e.preventDefault();
        if (items[active]) { options.pick(items[active], input.value.trim()); } else if (options.all) { options.all(input.value.trim()); }
      }
    });
  }

  function setUpSearch() {
    var form = document.querySelector("form.site-search");
    var input = document.getElementById("site-search-input");
    var list = document.getElementById("site-search-list");
    if (!form || !input || !list) { return; }
    var endpoint = form.getAttribute("data-endpoint");
    attachSuggestions(input, list, {
      endpoint: endpoint,
      pick: function (r) { window.location.assign(r.url); },
      all: function (query) { window.location.assign(form.action + "?q=" + encodeURIComponent(query)); }
    });
    document.addEventListener("keydown", function (e) {
      var tag = (e.target && e.target.tagName) || "";
      if (e.key === "/" && !e.ctrlKey && !e.metaKey && !/^(INPUT|TEXTAREA|SELECT)$/.test(tag) && !e.target.isContentEditable) {
        e.preventDefault(); input.focus(); input.select();
      }
    });
    document.querySelectorAll("input[data-suggest]").forEach(function (box) {
      var own = document.createElement("ul");
      own.className = "suggestions"; own.id = box.id + "-list"; own.hidden = true; own.setAttribute("role", "listbox");
      box.parentNode.appendChild(own);
      box.setAttribute("role", "combobox"); box.setAttribute("aria-controls", own.id); box.setAttribute("aria-expanded", "false");
      attachSuggestions(box, own, {
        endpoint: endpoint,
        kinds: box.getAttribute("data-suggest").split(","),
        pick: function (r) { box.value = r.id; box.form.submit(); }
      });
    });
  }

  // ------------------------------------------------------------ filter forms that apply on change
  function submitWithoutBlanks(form) {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) { if (value !== "") { params.append(key, value); } });
    window.location.assign((form.getAttribute("action") || window.location.pathname) + "?" + params.toString());
  }

  function setUpAutosubmit() {
    document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
      form.addEventListener("change", function (e) {
        if (e.target.matches("input[type=number]")) { return; }  // numbers apply with the button or Enter
        var clears = e.target.getAttribute("data-clears");
        if (clears) { form.querySelectorAll("[name='" + clears + "']").forEach(function (f) { f.value = ""; }); }
        submitWithoutBlanks(form);
      });
      form.addEventListener("submit", function (e) { e.preventDefault(); submitWithoutBlanks(form); });
    });
  }

  // ------------------------------------------------------------ highlighted models on a Bokeh plot
  function highlightIds() {
    var el = document.getElementById("highlight");
    var text = el ? el.getAttribute("data-ids") : "";
    return text ? text.split(",") : [];
  }

  function applyHighlight(ids) {
    if (!window.Bokeh || !window.Bokeh.documents || !window.Bokeh.documents.length) { return false; }
    var doc = window.Bokeh.documents[window.Bokeh.documents.length - 1];
    var wanted = {}, ready = false, marked = 0;
    ids.forEach(function (id) { wanted[id] = true; });
    doc.all_models.forEach(function (model) {
      var source, glyph;
      try { source = model.data_source; glyph = model.glyph; } catch (e) { return; }
      if (!source || !glyph || !source.data || !source.data.checkpoint || !source.data.backbone_id) { return; }
      ready = true;
      var data = source.data, indices = [];
      for (var i = 0; i < data.checkpoint.length; i++) {
        if (wanted[data.checkpoint[i]] || wanted[data.backbone_id[i]]) { indices.push(i); }
      }
      if (indices.length) {
        try { model.selection_glyph = glyph.clone({ size: 16, line_color: "#111111", line_width: 2.5, fill_alpha: 1 }); } catch (e) { /* keep Bokeh's own */ }
        source.selected.indices = indices;
        marked += indices.length;
      } else {
        glyph.fill_alpha = 0.12; glyph.line_alpha = 0.25;
      }
    });
    if (ready) { document.documentElement.setAttribute("data-highlighted", String(marked)); }
    return ready;
  }

  function highlightWhenReady() {
    var ids = highlightIds();
    if (!ids.length) { return; }
    var tries = 0;
    (function attempt() {
      if (applyHighlight(ids) || ++tries > 200) { return; }
      setTimeout(attempt, 50);
    })();
  }

  // ------------------------------------------------------------ the title follows the explorer's state
  function syncTitle() {
    var title = document.getElementById("page-title");
    if (title && title.textContent.trim()) { document.title = title.textContent.trim(); }
  }

  document.addEventListener("explorer:updated", function () { syncTitle(); highlightWhenReady(); });

  function foldOnNarrowScreens() {
    if (!window.matchMedia("(max-width: 699px)").matches) { return; }  // a media query: no forced layout
    document.querySelectorAll("details[data-fold-narrow]").forEach(function (d) { d.removeAttribute("open"); });
  }

  function start() { setUpSearch(); setUpAutosubmit(); foldOnNarrowScreens(); highlightWhenReady(); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
