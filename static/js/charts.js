// Leader overview charts (ECharts); a click on a bar or slice opens the orders behind it.
(function () {
  const data = JSON.parse(document.getElementById("chart-data").textContent);
  const open = function (params) { if (params.data && params.data.url) window.location = params.data.url; };
  const trend = echarts.init(document.getElementById("chart-trend"));
  trend.setOption({
    tooltip: { trigger: "axis" },
    legend: { data: ["受理量", "直接办结"] },
    xAxis: { type: "category", data: data.trend.x },
    yAxis: { type: "value" },
    series: [
      { name: "受理量", type: "line", data: data.trend.received },
      { name: "直接办结", type: "line", data: data.trend.direct },
    ],
  });
  const pie = echarts.init(document.getElementById("chart-categories"));
  pie.setOption({ tooltip: { trigger: "item" }, series: [{ type: "pie", radius: "65%", data: data.categories }] });
  pie.on("click", open);
  const bars = echarts.init(document.getElementById("chart-areas"));
  bars.setOption({
    tooltip: {},
    xAxis: { type: "value" },
    yAxis: { type: "category", data: data.areas.map(function (a) { return a.name; }), inverse: true },
    series: [{ type: "bar", data: data.areas.map(function (a) { return { value: a.value, url: a.url }; }) }],
  });
  bars.on("click", open);
  window.addEventListener("resize", function () { trend.resize(); pie.resize(); bars.resize(); });
})();
