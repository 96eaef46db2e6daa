// Explorer behaviour: embed the Bokeh plot, and with JavaScript apply form changes at once
// (fetch the JSON twin, swap the server-rendered region, keep the URL as the permalink).
(function () {
  "use strict";

  function embedPlot(item) {
    var target = document.getElementById("plot");
    if (!target || !item || !window.Bokeh) { return; }
    // drop the previous plot's views and document, so Bokeh holds exactly the plot shown
    Object.keys(window.Bokeh.index).forEach(function (id) { window.Bokeh.index[id].remove(); });
    window.Bokeh.documents.length = 0;
    target.innerHTML = "";
    window.Bokeh.embed.embed_item(item, "plot");
  }

  function embedFromPage() {
    var data = document.getElementById("plot-item");
    if (data) { embedPlot(JSON.parse(data.textContent)); }
  }

  function queryOf(form) {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (value !== "") { params.append(key, value); }
    });
    return params.toString();
  }

  var region = document.getElementById("explorer");
  if (!region) { embedFromPage(); return; }
  var pending = null;

  function load(query, push) {
    if (pending) { pending.abort(); }
    pending = new AbortController();
    region.classList.add("loading");
    return fetch("/plot.json?" + query, { signal: pending.signal, headers: { "Accept": "application/json" } })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (result) {
        region.classList.remove("loading");
        if (!result.ok) {
          window.location.assign("/?" + query);  // the server's 400 page explains the problem
          return;
        }
        region.innerHTML = result.body.main_html;
        embedPlot(result.body.plot);
        if (push) { history.pushState({ query: result.body.query }, "", "/?" + result.body.query); }
        else { history.replaceState({ query: result.body.query }, "", "/?" + result.body.query); }
        region.dispatchEvent(new CustomEvent("explorer:updated", { bubbles: true }));
      })
      .catch(function (error) {
        if (error.name !== "AbortError") { region.classList.remove("loading"); }
      });
  }

  region.addEventListener("change", function (event) {
    var form = document.getElementById("explorer-form");
    if (!form || !form.contains(event.target)) { return; }
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

  history.replaceState({ query: window.location.search.replace(/^\?/, "") }, "", window.location.href);
  embedFromPage();
})();
