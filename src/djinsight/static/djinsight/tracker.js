/* djinsight tracker: posts one view of the object named by data-ref. No cookies, no dependencies. */
(function () {
  var s = document.currentScript;
  if (!s) return;
  var d = s.dataset, dbg = d.debug === "true";
  function log(msg) { if (dbg && window.console) console.log("[djinsight] " + msg); }
  var dnt = navigator.doNotTrack === "1" || window.doNotTrack === "1" || navigator.globalPrivacyControl === true;
  if (d.respectDnt === "true" && dnt) { log("Do Not Track: view not sent"); return; }
  function send() {
    var body = JSON.stringify({ ref: d.ref, url: location.pathname + location.search, referrer: document.referrer });
    var sent = false;
    try { sent = navigator.sendBeacon(d.endpoint, new Blob([body], { type: "text/plain" })); } catch (e) {}
    if (!sent && window.fetch) {
      fetch(d.endpoint, { method: "POST", body: body, keepalive: true, credentials: "same-origin",
        headers: { "Content-Type": "text/plain" } });
    }
    log("view sent via " + (sent ? "sendBeacon" : "fetch"));
  }
  if (d.async === "true" && document.readyState !== "complete") window.addEventListener("load", send);
  else send();
})();
