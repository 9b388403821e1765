// Dashboard charts (ECharts): the volume trend and each breakdown panel; a click on a point, bar or slice
// opens the list of orders behind it.
(function () {
  const data = JSON.parse(document.getElementById("chart-data").textContent);
  const open = function (params) { if (params.data && params.data.url) window.location = params.data.url; };
  const charts = [];
  const trend = echarts.init(document.getElementById("chart-trend"));
  trend.setOption({
    tooltip: { trigger: "axis" },
    legend: { data: ["受理量", "直接办结"] },
    xAxis: { type: "category", data: data.trend.x },
    yAxis: { type: "value" },
    series: [
      { name: "受理量", type: "line", data: data.trend.received, symbolSize: 8 },
      { name: "直接办结", type: "line", data: data.trend.direct },
    ],
  });
  trend.on("click", open);
  charts.push(trend);
  data.panels.forEach(function (panel) {
    const element = document.getElementById("chart-" + panel.id);
    if (!element) { return; }
    const chart = echarts.init(element);
    if (panel.type === "pie") {
      chart.setOption({ tooltip: { trigger: "item" }, series: [{ type: "pie", radius: "65%", data: panel.data }] });
    } else {
      chart.setOption({
        tooltip: {},
        grid: { left: 8, right: 24, containLabel: true },
        xAxis: { type: "value" },
        yAxis: {
          type: "category", data: panel.data.map(function (d) { return d.name; }), inverse: true,
          axisLabel: { width: 150, overflow: "truncate", interval: 0 },  // whole names: the tooltip and the table
        },
        series: [{ type: "bar", data: panel.data.map(function (d) { return { value: d.value, url: d.url }; }) }],
      });
    }
    chart.on("click", open);
    charts.push(chart);
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
