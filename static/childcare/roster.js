// The door's roster on a spotty connection: a check-in is saved with fetch; when the network
// fails, it waits in localStorage (never lost, shown as "not saved yet") and is sent again
// every few seconds and when the tablet comes back online. The server's check-in is
// idempotent, so a save sent twice records one check-in. Without this script the forms post
// as usual. The search filters the list as you type.
(function () {
  const KEY = "childcare.pending";
  const banner = document.getElementById("roster-pending");
  const load = () => JSON.parse(localStorage.getItem(KEY) || "[]");
  const store = (items) => localStorage.setItem(KEY, JSON.stringify(items));

  function show() {
    const count = load().length;
    if (!banner) return;
    banner.hidden = count === 0;
    banner.textContent = banner.dataset.text.replace("{count}", count);
  }

  async function send(item) {
    const body = new URLSearchParams(item.fields);
    const response = await fetch(item.action, {
      method: "POST", body, credentials: "same-origin",
      headers: {"Accept": "application/json", "X-CSRFToken": item.fields.csrfmiddlewaretoken},
    });
    return response.json().then((data) => ({ok: response.ok, status: response.status, data}));
  }

  async function flush() {
    const items = load();
    const left = [];
    for (const item of items) {
      try {
        const result = await send(item);
        if (result.status >= 500) left.push(item);  // the server failed: keep and retry
        else if (!result.ok) alert(item.child + ": " + result.data.message);  // refused: say why
      } catch (e) {
        left.push(item);  // no connection: keep
      }
    }
    store(left.concat(load().slice(items.length)));
    show();
    if (items.length && !left.length) location.reload();
  }

  document.querySelectorAll("form.check-in").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const item = {action: form.action, child: form.dataset.child,
                    fields: Object.fromEntries(new FormData(form).entries())};
      const button = form.querySelector("button");
      button.disabled = true;
      try {
        const result = await send(item);
        if (result.ok) { location.reload(); return; }
        if (result.status >= 500) throw new Error("server");
        alert(result.data.message);
        button.disabled = false;
      } catch (e) {
        store(load().concat([item]));
        show();
        button.textContent = "…";
      }
    });
  });

  const search = document.getElementById("roster-q");
  if (search) {
    search.addEventListener("input", () => {
      const q = search.value.trim();
      document.querySelectorAll(".roster-row").forEach((row) => {
        row.hidden = q !== "" && !row.dataset.name.includes(q);
      });
    });
  }

  window.addEventListener("online", flush);
  setInterval(() => { if (load().length) flush(); }, 5000);
  show();
  if (load().length) flush();
})();
