// console.js: the little the console needs beyond HTML. Every page works
// without it; it adds the reader's time zone, the editor's line numbers and
// jumps to problems, confirmations, and the results charts.
(function () {
  "use strict";

  // The reader's time zone, for the server to show times in (a cookie).
  var tz = "";
  try { tz = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { tz = ""; }
  var current = (document.cookie.match(/(?:^|; )tidings_tz=([^;]*)/) || [])[1];
  if (tz && current !== encodeURIComponent(tz)) {
    document.cookie = "tidings_tz=" + encodeURIComponent(tz) + "; path=/console/; max-age=31536000; samesite=lax";
    // Show this page's times in the right zone once; never loop.
    if (!sessionStorage.getItem("tidings_tz_reloaded")) {
      sessionStorage.setItem("tidings_tz_reloaded", "1");
      location.reload();
      return;
    }
  }

  // Forms that ask before they act (archive).
  document.addEventListener("submit", function (ev) {
    var msg = ev.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { ev.preventDefault(); }
  });

  // The editor: line numbers that follow the text, and problem links that
  // put the caret at the problem's line and column.
  var source = document.querySelector(".editor textarea");
  var gutter = document.querySelector(".editor .gutter");
  if (source && gutter) {
    var bad = {};
    gutter.querySelectorAll("span.bad").forEach(function (s) { bad[s.textContent] = true; });
    var renumber = function () {
      var n = source.value.split("\n").length, out = [];
      for (var i = 1; i <= n; i++) {
        out.push(bad[i] ? '<span class="bad">' + i + "</span>" : "<span>" + i + "</span>");
      }
      gutter.innerHTML = out.join("\n");
      gutter.scrollTop = source.scrollTop;
    };
    source.addEventListener("input", renumber);
    source.addEventListener("scroll", function () { gutter.scrollTop = source.scrollTop; });
    document.querySelectorAll("a.problem[data-line]").forEach(function (a) {
      a.addEventListener("click", function (ev) {
        ev.preventDefault();
        var line = +a.getAttribute("data-line"), col = +a.getAttribute("data-column") || 1;
        var lines = source.value.split("\n"), at = 0;
        for (var i = 0; i < line - 1 && i < lines.length; i++) { at += lines[i].length + 1; }
        at += Math.max(col - 1, 0);
        source.focus();
        source.setSelectionRange(at, at);
        var lh = source.scrollHeight / Math.max(lines.length, 1);
        source.scrollTop = Math.max(0, (line - 5) * lh);
      });
    });
  }

  // The results chart: conversion rate per group, sent and converted.
  var chart = document.querySelector("[data-chart=results]");
  var data = document.getElementById("results-data");
  var labels = document.getElementById("results-labels");
  if (chart && data && labels && window.echarts) {
    var bars = JSON.parse(data.textContent), l = JSON.parse(labels.textContent);
    var lang = document.documentElement.lang.indexOf("zh") === 0 ? "ZH" : "EN";
    var c = window.echarts.init(chart, null, { locale: lang });
    c.setOption({
      animation: false,
      legend: { top: 0 },
      grid: { left: 48, right: 48, top: 36, bottom: 28 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: bars.map(function (b) { return b.label; }) },
      yAxis: [{ type: "value" }, { type: "value", axisLabel: { formatter: "{value}%" } }],
      series: [
        { name: l["results.sent"], type: "bar", data: bars.map(function (b) { return b.sent; }) },
        { name: l["results.converted"], type: "bar", data: bars.map(function (b) { return b.converted; }) },
        { name: l["results.rate"], type: "line", yAxisIndex: 1, data: bars.map(function (b) { return +(b.rate * 100).toFixed(1); }) }
      ]
    });
    window.addEventListener("resize", function () { c.resize(); });
  }
})();
