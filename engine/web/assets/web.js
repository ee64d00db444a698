// amatad's web view: keeps the /events timeline live over Server-Sent Events. The page works
// without it (reload for new events); this only adds the rows amatad streams. The rows come
// rendered and escaped by amatad (engine/web/pages.cc, event_row), the same as the page's.
(function () {
  "use strict";
  var body = document.getElementById("timeline");
  if (!body || !window.EventSource) return;
  var live = document.getElementById("live");
  var kMaxRows = 2000;  // a page left open for days must not grow without end
  var source = new EventSource(body.getAttribute("data-stream"));
  function say(text, on) {
    live.textContent = text;
    live.className = "live " + (on ? "on" : "off");
  }
  source.onopen = function () {
    say("live: new events appear at the top", true);
  };
  source.onerror = function () {
    if (source.readyState === EventSource.CLOSED) {
      say("live view refused or ended (too many open?); reload the page", false);
    } else {
      say("live view interrupted; reconnecting", false);
    }
  };
  source.onmessage = function (message) {
    var holder = document.createElement("tbody");
    holder.innerHTML = message.data;
    var row = holder.firstElementChild;
    if (!row) return;
    var id = row.getAttribute("data-id");
    if (id && body.querySelector('tr[data-id="' + id + '"]')) return;
    row.classList.add("fresh");
    body.insertBefore(row, body.firstChild);
    var none = document.getElementById("no-events");
    if (none) none.remove();
    while (body.rows.length > kMaxRows) body.deleteRow(-1);
  };
})();
