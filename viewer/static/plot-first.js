// The explorer's plot first. Loaded in the page's head (it blocks parsing for a moment), so it runs before the
// browser first lays out the page: the points table below the plot is laid out once the plot is drawn, and
// the controls once their selects are searchable (explorer.js removes each class), or both after two
// seconds whatever happens. Without JavaScript nothing waits.
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("plot-pending", "controls-pending");
  setTimeout(function () { root.classList.remove("plot-pending", "controls-pending"); }, 2000);
})();
