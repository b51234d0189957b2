/* djinsight live figures: refreshes every [data-djinsight-live] block in place.
   One request per refresh interval for all blocks that share it; paused while the tab is hidden. */
(function () {
  if (window.djinsightLive) return;
  window.djinsightLive = true;
  var groups = {}, timers = [];

  function update(block, data) {
    if (!data) return;
    Object.keys(data).forEach(function (key) {
      var items = block.querySelectorAll('[data-djinsight-stat="' + key + '"] .djinsight-stat-value');
      for (var i = 0; i < items.length; i++) {
        var el = items[i];
        if (key === "last_viewed_at") {
          if (el.tagName !== "TIME") {  // it said "never": make it a <time>
            var time = document.createElement("time");
            time.className = el.className;
            el.parentNode.replaceChild(time, el);
            el = time;
          }
          el.setAttribute("datetime", data[key]);
          el.textContent = data.last_viewed_display || data[key];
        } else if (el.textContent !== String(data[key])) {
          el.textContent = data[key];
        }
      }
    });
  }

  function poll(group) {
    if (document.hidden) return;
    var query = group.blocks.map(function (b) { return "ref=" + encodeURIComponent(b.dataset.ref); });
    fetch(group.endpoint + "?" + query.join("&"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body) return;
        group.blocks.forEach(function (b) { update(b, body.stats[b.dataset.ref]); });
      })
      .catch(function () {});
  }

  function start() {
    stop();
    Object.keys(groups).forEach(function (k) {
      var g = groups[k];
      timers.push(setInterval(function () { poll(g); }, g.seconds * 1000));
    });
  }

  function stop() {
    timers.forEach(clearInterval);
    timers = [];
  }

  function init() {
    var blocks = document.querySelectorAll("[data-djinsight-live]");
    for (var i = 0; i < blocks.length; i++) {
      var b = blocks[i], seconds = Math.max(1, parseInt(b.dataset.refresh, 10) || 30);
      var key = b.dataset.endpoint + "|" + seconds;
      (groups[key] = groups[key] || { endpoint: b.dataset.endpoint, seconds: seconds, blocks: [] }).blocks.push(b);
    }
    document.addEventListener("visibilitychange", function () {
      if (document.hidden) { stop(); return; }
      Object.keys(groups).forEach(function (k) { poll(groups[k]); });  // catch up at once
      start();
    });
    if (!document.hidden) start();
    // one early refresh, so the figures include this page's own view (its beacon goes at load)
    function soon() { setTimeout(function () { Object.keys(groups).forEach(function (k) { poll(groups[k]); }); }, 1500); }
    if (document.readyState === "complete") soon();
    else window.addEventListener("load", soon);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
