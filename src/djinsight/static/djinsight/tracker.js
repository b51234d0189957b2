/* djinsight tracker: posts one view of the object named by data-ref. No cookies, no dependencies.
   Configured by its own script tag: data-endpoint, data-ref, data-async, data-debug, data-respect-dnt,
   data-respect-gpc (Global Privacy Control is honoured unless it is "false").
   tracker.min.js is this file through scripts/build_js.py (`make js`): keep it ES5. */
(function () {
  var s = document.currentScript;
  if (!s) return;
  var d = s.dataset, dbg = d.debug === "true";
  function log(msg) { if (dbg && window.console) console.log("[djinsight] " + msg); }
  var n = navigator, dnt = n.doNotTrack === "1" || window.doNotTrack === "1";
  if (d.respectGpc !== "false" && n.globalPrivacyControl === true) { log("GPC: view not sent"); return; }
  if (d.respectDnt === "true" && dnt) { log("Do Not Track: view not sent"); return; }
  // one view per object per page, however many trackers name it
  var seen = window.__djinsight = window.__djinsight || {};
  if (seen[d.ref]) { log("already counted on this page"); return; }
  seen[d.ref] = 1;
  function send() {
    var body = JSON.stringify({ ref: d.ref, url: location.pathname + location.search, referrer: document.referrer });
    var sent = false;
    // text/plain keeps sendBeacon and fetch "simple" requests: no CORS preflight
    try { sent = n.sendBeacon(d.endpoint, new Blob([body], { type: "text/plain" })); } catch (e) {}
    if (!sent && window.fetch) {
      fetch(d.endpoint, { method: "POST", body: body, keepalive: true, headers: { "Content-Type": "text/plain" } })
        .catch(function () {});
    }
    log("view of " + d.ref.split(":").slice(0, 2).join(":") + " sent via " + (sent ? "sendBeacon" : "fetch"));
  }
  // async_load: wait for the load event so the beacon never competes with the page itself
  if (d.async === "true" && document.readyState !== "complete") window.addEventListener("load", send);
  else send();
})();
