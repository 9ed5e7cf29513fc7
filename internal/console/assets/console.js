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
    var c = window.echarts.init(chart, null, { locale: chartLocale() });
    c.setOption({
      animation: false,
      legend: { top: 0 },
      grid: { left: 48, right: 48, top: 36, bottom: 28 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: bars.map(function (b) { return b.label; }) },
      yAxis: [{ type: "value", minInterval: 1 }, { type: "value", axisLabel: { formatter: "{value}%" } }],
      series: [
        { name: l["results.sent"], type: "bar", data: bars.map(function (b) { return b.sent; }) },
        { name: l["results.converted"], type: "bar", data: bars.map(function (b) { return b.converted; }) },
        { name: l["results.rate"], type: "line", yAxisIndex: 1, data: bars.map(function (b) { return +(b.rate * 100).toFixed(1); }) }
      ]
    });
    window.addEventListener("resize", function () { c.resize(); });
  }

  // A segment's size over time: one point a day, the table beside it.
  var sizes = document.querySelector("[data-chart=sizes]");
  var sizeData = document.getElementById("sizes-data");
  var sizeLabels = document.getElementById("sizes-labels");
  if (sizes && sizeData && sizeLabels && window.echarts) {
    var points = JSON.parse(sizeData.textContent), sl = JSON.parse(sizeLabels.textContent);
    var sc = window.echarts.init(sizes, null, { locale: chartLocale() });
    sc.setOption({
      animation: false,
      grid: { left: 64, right: 24, top: 24, bottom: 28 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: points.map(function (p) { return p.label; }) },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ name: sl["segments.size"], type: "line", showSymbol: true, label: { show: points.length <= 14 },
        data: points.map(function (p) { return p.size; }) }]
    });
    window.addEventListener("resize", function () { sc.resize(); });
  }

  // The report charts: each is an ECharts option the server built, next to
  // the table of the same numbers. A custom series named "errorbar" is an
  // interval drawn from its low to its high value.
  document.querySelectorAll("[data-report-chart]").forEach(function (el) {
    var src = document.getElementById(el.getAttribute("data-report-chart"));
    if (!src || !window.echarts) { return; }
    var option = JSON.parse(src.textContent);
    option.animation = false;
    (option.series || []).forEach(function (s) {
      if (s.type === "custom" && s.renderItem === "errorbar") { s.renderItem = errorBar; }
    });
    var c = window.echarts.init(el, null, { locale: chartLocale() });
    c.setOption(option);
    window.addEventListener("resize", function () { c.resize(); });
  });

  // errorBar draws one interval: a vertical line from low to high with a
  // cap at each end.
  function errorBar(params, api) {
    var x = api.value(0), lo = api.coord([x, api.value(1)]), hi = api.coord([x, api.value(2)]);
    var w = api.size([1, 0])[0] * 0.12;
    var style = { stroke: api.visual("color"), lineWidth: 2 };
    return {
      type: "group",
      children: [
        { type: "line", shape: { x1: lo[0], y1: lo[1], x2: hi[0], y2: hi[1] }, style: style },
        { type: "line", shape: { x1: lo[0] - w, y1: lo[1], x2: lo[0] + w, y2: lo[1] }, style: style },
        { type: "line", shape: { x1: hi[0] - w, y1: hi[1], x2: hi[0] + w, y2: hi[1] }, style: style }
      ]
    };
  }

  // chartLocale is ECharts' locale for the page's language: its own EN
  // and ZH, and Traditional Chinese, which ECharts lacks, registered here
  // for the few words a chart shows.
  function chartLocale() {
    var lang = document.documentElement.lang;
    if (lang.indexOf("zh-Hant") === 0) {
      if (window.echarts && !chartLocale.tw) {
        window.echarts.registerLocale("ZH-TW", {
          time: {
            month: ["一月", "二月", "三月", "四月", "五月", "六月", "七月", "八月", "九月", "十月", "十一月", "十二月"],
            monthAbbr: ["1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月"],
            dayOfWeek: ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"],
            dayOfWeekAbbr: ["日", "一", "二", "三", "四", "五", "六"]
          },
          legend: { selector: { all: "全選", inverse: "反選" } },
          toolbox: { saveAsImage: { title: "儲存為圖片", lang: ["按右鍵另存圖片"] } },
          aria: { general: { withTitle: "這是一張關於「{title}」的圖表。", withoutTitle: "這是一張圖表，" } }
        });
        chartLocale.tw = true;
      }
      return "ZH-TW";
    }
    return lang.indexOf("zh") === 0 ? "ZH" : "EN";
  }
})();
