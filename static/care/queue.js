// Tells staff that their queue changed; the page itself works without it.
(function () {
  const banner = document.getElementById("queue-changed");
  if (!banner || !window.WebSocket) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  let delay = 1000;
  function connect() {
    const socket = new WebSocket(`${scheme}://${location.host}/ws/queue/`);
    socket.onmessage = function () { banner.hidden = false; };
    socket.onopen = function () { delay = 1000; };
    socket.onclose = function (event) {
      if (event.code >= 4400) return; // not allowed: do not retry
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
