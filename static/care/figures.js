// Draws the manager's charts (Chart.js, from npm) from the page's own data (#figures-data, the
// same figures as the tables under each chart). Suppressed counts are null: drawn as gaps.
(function () {
  const source = document.getElementById("figures-data");
  if (!source || !window.Chart) return;
  const data = JSON.parse(source.textContent);
  const palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"];
  const common = { responsive: true, maintainAspectRatio: false, animation: false };

  const trend = document.getElementById("trend-chart");
  if (trend) {
    new Chart(trend, {
      type: "bar",
      data: {
        labels: data.trend.labels,
        datasets: data.trend.series.map((series, i) => ({
          label: series.label, data: series.data, backgroundColor: palette[i % palette.length],
        })),
      },
      options: { ...common, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
    });
  }

  const satisfaction = document.getElementById("satisfaction-chart");
  if (satisfaction) {
    new Chart(satisfaction, {
      type: "bar",
      data: {
        labels: data.satisfaction.map((row) => row.label),
        datasets: [{
          label: satisfaction.dataset.label || "",
          data: data.satisfaction.map((row) => row.average),
          backgroundColor: palette[2],
        }],
      },
      options: { ...common, indexAxis: "y", plugins: { legend: { display: false } },
                 scales: { x: { min: 0, max: 5 } } },
    });
  }
})();
