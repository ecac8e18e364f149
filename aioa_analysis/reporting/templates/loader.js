/* Rapport AIOA : décompresse plotly.js (gzip + base64, intégré une fois) puis trace les graphiques.
   Sans DecompressionStream ou en cas d'erreur : classe « no-charts », les tableaux restent. */
(function () {
  "use strict";
  var root = document.documentElement;
  function noCharts() { root.classList.add("no-charts"); }
  function run(code) {
    var s = document.createElement("script");
    s.textContent = code;
    document.head.appendChild(s);
  }
  function draw() {
    var plots = document.querySelectorAll('script[type="application/x-aioa-plot"]');
    for (var i = 0; i < plots.length; i++) run(plots[i].textContent);
    window.addEventListener("beforeprint", function () { resize(PRINT_WIDTH); });
    window.addEventListener("afterprint", function () { resize(null); });
  }
  /* À l'impression, chaque graphique est retracé à la largeur d'une page A4 (marges comprises), sinon
     un graphique tracé pour un grand écran serait coupé à droite. */
  var PRINT_WIDTH = 680;
  function resize(width) {
    var divs = document.querySelectorAll(".plotly-graph-div");
    for (var i = 0; i < divs.length; i++) {
      if (!divs[i].layout) continue;
      var w = width === null ? null : Math.min(width, divs[i].clientWidth || width);
      window.Plotly.relayout(divs[i], { width: w, autosize: width === null });
    }
  }
  /* Sur un écran étroit (téléphone) : légende sous le graphique, police réduite, graphique plus haut
     de la place que prend la légende. */
  var narrow = !!(window.matchMedia && window.matchMedia("(max-width: 600px)").matches);
  window.aioaLayout = function (layout) {
    if (!narrow) return layout;
    var entries = 0;
    layout.font = Object.assign({}, layout.font, { size: 11 });
    if (layout.showlegend !== false) {
      entries = 4;
      layout.legend = Object.assign({}, layout.legend, {
        orientation: "h", x: 0, xanchor: "left", y: 0, yanchor: "bottom", yref: "container"
      });
    }
    layout.margin = Object.assign({}, layout.margin, { l: 10, r: 10 });
    if (layout.height) layout.height = layout.height + 22 * entries;
    return layout;
  };
  var packed = document.getElementById("aioa-plotly");
  if (!packed || typeof DecompressionStream === "undefined" || typeof Response === "undefined" ||
      typeof Blob === "undefined" || typeof Blob.prototype.stream !== "function") {
    noCharts();
    return;
  }
  try {
    var bin = atob(packed.textContent.trim());
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    var inflated = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    new Response(inflated).text().then(function (js) {
      run(js);
      if (window.Plotly) { draw(); } else { noCharts(); }
    }, noCharts);
  } catch (e) {
    noCharts();
  }
})();
