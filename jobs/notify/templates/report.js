// Tells a reader (and the browser test) whether every chart decoded; reports nothing external.
window.addEventListener('load', function () {
  var charts = document.querySelectorAll('img.chart');
  var ok = 0;
  charts.forEach(function (img) { if (img.complete && img.naturalWidth > 0) { ok += 1; } });
  document.body.setAttribute('data-charts-rendered', ok + '/' + charts.length);
  console.log('ecoute-report: charts rendered ' + ok + '/' + charts.length);
});
