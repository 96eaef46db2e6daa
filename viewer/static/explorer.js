// Explorer behaviour: embed the Bokeh plot with its legend (in its own box beside the plot) and a
// hover card for the one nearest point; with JavaScript, apply form changes at once (fetch the JSON
// twin, swap the server-rendered region, keep the URL as the permalink, hidden groups included).
(function () {
  "use strict";

  var HOVER_RADIUS = 14;  // px: farther than this from every point, no card
  var TOOLTIP = [["Checkpoint", "checkpoint"], ["Pretraining", "pretraining"], ["Fine-tuning chain", "chain"],
                 ["Head", "head"], ["Schedule", "schedule"], ["Protocol", "protocol"]];
  var state = { item: null, hidden: [] };

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function swatch(svgs, marker, color) {
    // the marker's own shape, filled with the group's colour (markup from the server's MARKER_SVG)
    var span = el("span");
    span.innerHTML = '<svg class="swatch" viewBox="0 0 16 16" aria-hidden="true"><g fill="' + color +
      '" stroke="#222" stroke-width="0.8">' + (svgs[marker] || svgs.circle || "") + "</g></svg>";
    return span.firstChild;
  }

  function bokehModel(name) {
    var doc = window.Bokeh && window.Bokeh.documents[0];
    if (!doc) { return null; }
    var found = null;
    doc.all_models.forEach(function (m) {
      var n; try { n = m.name; } catch (e) { return; }
      if (n === name) { found = m; }
    });
    return found;
  }

  function pointsView() {
    var doc = window.Bokeh && window.Bokeh.documents[0];
    if (!doc) { return null; }
    var fig = doc.roots()[0];
    var view = fig && window.Bokeh.index[fig.id];
    if (!view) { return null; }
    var out = null;
    view.renderer_views.forEach(function (rv, model) {
      var n; try { n = model.name; } catch (e) { return; }
      if (n === "points") { out = { fig: view, rv: rv, model: model }; }
    });
    return out;
  }

  // ---- hidden groups: the plot's filter, the legend and the URL agree --------------------------
  function setHidden(hidden, updateUrl) {
    state.hidden = hidden.slice().sort();
    var filter = bokehModel("shown");
    var source = bokehModel("point-data");
    if (filter && source) {
      var groups = source.data.group;
      var booleans = [];
      for (var i = 0; i < groups.length; i++) { booleans.push(state.hidden.indexOf(groups[i]) < 0); }
      filter.booleans = booleans;
    }
    document.querySelectorAll("#legend button.item[data-key]").forEach(function (b) {
      b.setAttribute("aria-pressed", state.hidden.indexOf(b.getAttribute("data-key")) < 0 ? "true" : "false");
    });
    var form = document.getElementById("explorer-form");
    if (form) {
      form.querySelectorAll("input[name=hide]").forEach(function (input) { input.remove(); });
      state.hidden.forEach(function (g) { form.appendChild(el("input", { type: "hidden", name: "hide", value: g })); });
    }
    if (updateUrl && document.getElementById("explorer")) {
      var params = new URLSearchParams(window.location.search);
      params.delete("hide");
      state.hidden.forEach(function (g) { params.append("hide", g); });
      var query = params.toString();
      history.replaceState({ query: query }, "", "?" + query);
      var permalink = document.getElementById("permalink");
      if (permalink) { permalink.setAttribute("href", "?" + query); }
    }
  }

  function drawLegend(legend) {
    var box = document.getElementById("legend");
    var plot = document.getElementById("plot");
    if (!box && plot) {  // pages that embed a plot without reserving a legend box
      var row = el("div", { "class": "plot-row" });
      var holder = el("div", { "class": "plot-box" });
      plot.parentNode.insertBefore(row, plot);
      holder.appendChild(plot);
      holder.appendChild(el("div", { id: "hover-card", "class": "hover-card", role: "tooltip", hidden: "" }));
      row.appendChild(holder);
      box = el("aside", { id: "legend", "class": "legend-box", "aria-label": "Legend" });
      row.appendChild(box);
    }
    if (!box || !legend) { return; }
    box.innerHTML = "";
    box.appendChild(el("h3", {}, legend.title + " (click to hide or show)"));
    var list = el("ul");
    legend.colors.forEach(function (g) {
      var li = el("li");
      var button = el("button", { type: "button", "class": "item", "data-key": g.key, "data-color": g.color,
                                  "aria-pressed": g.hidden ? "false" : "true" });
      var shapes = el("span", { "class": "swatches" });
      g.markers.forEach(function (m) { shapes.appendChild(swatch(legend.svg, m, g.color)); });
      button.appendChild(shapes);
      button.appendChild(el("span", { "class": "label" }, g.label));
      button.appendChild(el("span", { "class": "count" }, String(g.count)));
      li.appendChild(button);
      list.appendChild(li);
    });
    box.appendChild(list);
    if (legend.markers.length) {
      box.appendChild(el("h3", {}, "Markers: " + legend.marker_title));
      var markers = el("ul");
      legend.markers.forEach(function (m) {
        var li = el("li", { "class": "marker-key", "data-marker": m.marker });
        li.appendChild(swatch(legend.svg, m.marker, "#9aa5ad"));
        li.appendChild(el("span", {}, m.label));
        markers.appendChild(li);
      });
      box.appendChild(markers);
    }
  }

  // ---- the hover card: one point, the nearest -----------------------------------------------
  function nearest(clientX, clientY) {
    var found = pointsView();
    if (!found) { return null; }
    var rect = found.fig.canvas_view.el.getBoundingClientRect();
    var mx = clientX - rect.left, my = clientY - rect.top;
    var frame = found.fig.frame.bbox;
    if (mx < frame.left || mx > frame.right || my < frame.top || my > frame.bottom) { return null; }
    var sx = found.rv.glyph.sx, sy = found.rv.glyph.sy;
    var best = -1, bestD = HOVER_RADIUS * HOVER_RADIUS;
    for (var i = 0; i < sx.length; i++) {
      var dx = sx[i] - mx, dy = sy[i] - my, d = dx * dx + dy * dy;
      if (d <= bestD) { best = i; bestD = d; }
    }
    if (best < 0) { return null; }
    var index = found.model.view.convert_indices_from_subset([best])[0];
    return { index: index, data: found.model.data_source.data, sx: sx[best], sy: sy[best], rect: rect };
  }

  function showCard(hit) {
    var card = document.getElementById("hover-card");
    if (!card) { return; }
    if (!hit) { card.hidden = true; card.removeAttribute("data-index"); return; }
    var d = hit.data, i = hit.index, fig = pointsView().fig;
    var codes = (state.item && state.item.legend && state.item.legend.codes) || {};
    var value = function (name) {  // a coded column holds indices into the item's lists of values
      var v = d[name][i];
      return codes[name] ? codes[name][v] : v;
    };
    if (card.getAttribute("data-index") !== String(i)) {
      card.innerHTML = "";
      card.appendChild(el("div", { "class": "head" }, value("backbone")));
      var dl = el("dl");
      var rows = [[fig.model.left[0].axis_label, d.y_text[i]], [fig.model.below[0].axis_label, d.x_text[i]]];
      TOOLTIP.forEach(function (f) { rows.push([f[0], value(f[1])]); });
      rows.push(["Source", value("source")]);
      if (value("x_source")) { rows.push(["Other axis from", value("x_source")]); }
      rows.forEach(function (r) {
        if (r[1] === "" || r[1] === "-" || r[1] === null) { return; }
        dl.appendChild(el("dt", {}, r[0]));
        dl.appendChild(el("dd", {}, String(r[1])));
      });
      card.appendChild(dl);
      card.setAttribute("data-index", String(i));
    }
    card.hidden = false;
    var box = card.parentNode.getBoundingClientRect();
    var x = hit.rect.left - box.left + hit.sx, y = hit.rect.top - box.top + hit.sy;
    var w = card.offsetWidth, h = card.offsetHeight;
    var left = x + 14 + w > box.width ? Math.max(0, x - 14 - w) : x + 14;
    var top = Math.min(Math.max(0, y - h / 2), Math.max(0, box.height - h));
    card.style.left = left + "px";
    card.style.top = top + "px";
  }

  function watchHover() {
    var plot = document.getElementById("plot");
    if (!plot || plot.getAttribute("data-hover") === "1") { return; }
    plot.setAttribute("data-hover", "1");
    var frame = null;
    plot.addEventListener("mousemove", function (event) {
      if (frame) { return; }
      var x = event.clientX, y = event.clientY;
      frame = window.requestAnimationFrame(function () { frame = null; showCard(nearest(x, y)); });
    });
    plot.addEventListener("mouseleave", function () { showCard(null); });
  }

  function embedPlot(item) {
    var target = document.getElementById("plot");
    if (!target || !item || !window.Bokeh) { return Promise.resolve(); }
    // drop the previous plot's views and document, so Bokeh holds exactly the plot shown
    Object.keys(window.Bokeh.index).forEach(function (id) { window.Bokeh.index[id].remove(); });
    window.Bokeh.documents.length = 0;
    target.innerHTML = "";
    state.item = item;
    drawLegend(item.legend);
    watchHover();
    var hidden = (item.legend && item.legend.colors.filter(function (g) { return g.hidden; })
      .map(function (g) { return g.key; })) || [];
    state.hidden = hidden;
    return window.Bokeh.embed.embed_item(item, "plot");
  }

  function embedFromPage() {
    var data = document.getElementById("plot-item");
    return data ? embedPlot(JSON.parse(data.textContent)) : Promise.resolve();
  }

  // Calls `then` once Bokeh has drawn the plot (its document is idle) and the browser has shown that
  // frame, or at once without a plot.
  function whenDrawn(then) {
    var tries = 0;
    (function check() {
      var doc = window.Bokeh && window.Bokeh.documents[0];
      if (!doc) { then(); return; }
      if (doc.is_idle || ++tries > 300) {
        window.requestAnimationFrame(function () { setTimeout(then, 0); });
        return;
      }
      window.requestAnimationFrame(check);
    })();
  }

  // What waits for the plot (plot-first.js's plot-pending: the table below it) is laid out now.
  function plotDrawn() { document.documentElement.classList.remove("plot-pending"); }

  // The page's plot embedded; once it is drawn, what waits for it is laid out.
  function embedThenReveal() {
    return embedFromPage().then(function () { whenDrawn(plotDrawn); }, plotDrawn);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("#legend button.item[data-key]");
    if (!button) { return; }
    var key = button.getAttribute("data-key");
    var hidden = state.hidden.slice();
    var at = hidden.indexOf(key);
    if (at < 0) { hidden.push(key); } else { hidden.splice(at, 1); }
    setHidden(hidden, true);
  });

  var region = document.getElementById("explorer");
  if (!region) { embedThenReveal(); return; }

  // ---- the controls: searchable multi-selects, changes applied at once ------------------------
  var pending = null;
  var openPanels = {};

  function queryOf(form) {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (value !== "") { params.append(key, value); }
    });
    return params.toString();
  }

  // Tom Select (script and style sheet) is loaded once the plot is drawn (it is not needed to see the plot),
  // then kept; `then` runs when both are in.
  var selectReady = null;
  function withTomSelect(then) {
    if (!selectReady) {
      var src = region.getAttribute("data-select-script"), href = region.getAttribute("data-select-style");
      if (!src || !href) { controlsReady(); return; }
      var loaded = function (node) {
        return new Promise(function (resolve, reject) {
          node.addEventListener("load", resolve);
          node.addEventListener("error", reject);
          document.head.appendChild(node);
        });
      };
      selectReady = Promise.all([loaded(el("link", { rel: "stylesheet", href: href })), loaded(el("script", { src: src }))]);
    }
    selectReady.then(then, controlsReady);  // the native selects, when either cannot be loaded
  }

  // The controls (plot-first.js's controls-pending, until their selects are searchable) are laid out now.
  function controlsReady() { document.documentElement.classList.remove("controls-pending"); }

  function enhanceSelects() {
    withTomSelect(enhanceNow);
  }

  function enhanceNow() {
    if (document.readyState === "loading") {  // the controls come after the plot in the page
      document.addEventListener("DOMContentLoaded", enhanceNow);
      return;
    }
    // shown first (in this same task, so no frame shows the native selects): Tom Select measures them
    controlsReady();
    var form = document.getElementById("explorer-form");
    if (!form) { return; }
    form.querySelectorAll("select[multiple][data-search]:not([data-enhanced])").forEach(function (select) {
      var before = null;
      var control = new window.TomSelect(select, {
        plugins: { remove_button: { title: "Remove" }, clear_button: { title: "Clear" } },
        maxOptions: null, hidePlaceholder: false, closeAfterSelect: false, refreshThrottle: 0,
        placeholder: select.getAttribute("data-placeholder") || "type to search",
        onDropdownOpen: function () { before = control.getValue().join(","); },
        onDropdownClose: function () {
          if (before !== null && before !== control.getValue().join(",")) { apply(); }
          before = null;
        },
        onItemRemove: function () { if (!control.isOpen) { apply(); } },
        onClear: function () { if (!control.isOpen) { apply(); } }
      });
      select.setAttribute("data-enhanced", "1");
    });
  }

  function rememberPanels() {
    region.querySelectorAll("details[id], details.more").forEach(function (d, i) {
      openPanels[d.id || "more" + i] = d.open;
    });
  }

  function restorePanels() {
    region.querySelectorAll("details[id], details.more").forEach(function (d, i) {
      var key = d.id || "more" + i;
      if (key in openPanels) { d.open = openPanels[key]; }
    });
  }

  function showError(message) {
    var box = document.getElementById("explorer-error");
    if (!box) { return; }
    box.textContent = message;
    box.hidden = false;
  }

  function load(query, push) {
    if (pending) { pending.abort(); }
    pending = new AbortController();
    region.classList.add("loading");
    rememberPanels();
    return fetch("/plot-region.json?" + query, { signal: pending.signal, headers: { "Accept": "application/json" } })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (result) {
        region.classList.remove("loading");
        if (!result.ok) {
          // the form stays as it is; the message says which value is wrong and what is valid
          var b = result.body;
          showError(b.error + (b.choices ? " Valid: " + b.choices + "." : ""));
          return;
        }
        if (/id="plot-item"/.test(result.body.main_html)) {  // the new table waits for the new plot
          document.documentElement.classList.add("plot-pending");
        }
        region.innerHTML = result.body.main_html;
        restorePanels();
        enhanceSelects();
        document.title = result.body.title + " · Heedless Backbones";
        embedThenReveal();
        if (push) { history.pushState({ query: result.body.query }, "", "/?" + result.body.query); }
        else { history.replaceState({ query: result.body.query }, "", "/?" + result.body.query); }
        region.dispatchEvent(new CustomEvent("explorer:updated", { bubbles: true }));
      })
      .catch(function (error) {
        if (error.name !== "AbortError") { region.classList.remove("loading"); showError("The server could not be reached: " + error.message); }
      });
  }

  function apply() {
    var form = document.getElementById("explorer-form");
    if (form) { load(queryOf(form), true); }
  }

  region.addEventListener("change", function (event) {
    var form = document.getElementById("explorer-form");
    if (!form || !form.contains(event.target)) { return; }
    if (event.target.matches("select[data-enhanced]")) { return; }  // applied when its dropdown closes
    var resets = (event.target.getAttribute("data-resets") || "").split(" ");
    resets.forEach(function (name) {
      if (!name) { return; }
      form.querySelectorAll("[name='" + name + "']").forEach(function (field) { field.disabled = true; });
    });
    load(queryOf(form), true);
  });

  region.addEventListener("submit", function (event) {
    event.preventDefault();
    load(queryOf(event.target), true);
  });

  region.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-nav]");
    if (!link) { return; }
    event.preventDefault();
    load(link.getAttribute("href").replace(/^\?/, ""), true);
  });

  window.addEventListener("popstate", function (event) {
    var query = (event.state && event.state.query) || window.location.search.replace(/^\?/, "");
    load(query, false);
  });

  function foldOnPhones() {  // plot first on phones
    var controls = document.getElementById("controls");
    if (controls && window.matchMedia("(max-width: 800px)").matches) { controls.open = false; }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", foldOnPhones); } else { foldOnPhones(); }
  history.replaceState({ query: window.location.search.replace(/^\?/, "") }, "", window.location.href);
  // the table and the searchable selects once the plot is drawn: a person sees the plot first
  var afterPlot = function () {
    whenDrawn(function () { plotDrawn(); enhanceSelects(); });
  };
  embedFromPage().then(afterPlot, afterPlot);
})();
