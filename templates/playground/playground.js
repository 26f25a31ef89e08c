// The playground page: keeps the server-rendered parts current and sends what the person does.
// The server renders every part (sidebar, header, messages, modal) for the person acting; this script
// long-polls /api/state, puts changed parts in place, and posts clicks, messages and forms to /api/*.
"use strict";

(() => {
  const body = document.body;
  const byId = (id) => document.getElementById(id);
  const shown = new WeakMap(); // element -> the HTML it shows
  let as = body.dataset.as;
  let at = body.dataset.at;
  let revision = -1;
  let watching = null; // AbortController of the pending long poll
  let modalKey = null;
  let drawn = ""; // whose view of which place the message list shows

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function remember() {
    history.replaceState(null, "", `/?${new URLSearchParams({ as, at })}`);
  }

  async function send(path, data) {
    try {
      const response = await fetch(path, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ as, at, ...data }),
      });
      tell(response.ok ? "" : await response.text());
    } catch (error) {
      tell(`The playground did not answer: ${error.message}`);
    }
    refresh();
  }

  function tell(text) {
    byId("problem").textContent = text;
  }

  function refresh() {
    revision = -1;
    if (watching) watching.abort();
  }

  async function watch() {
    for (;;) {
      watching = new AbortController();
      const asked = { as, at };
      try {
        const query = new URLSearchParams({ ...asked, seen: revision });
        const response = await fetch(`/api/state?${query}`, { signal: watching.signal });
        if (response.ok) apply(await response.json(), asked);
        else await sleep(1000);
      } catch (error) {
        if (error.name !== "AbortError") await sleep(1000);
      }
    }
  }

  function apply(state, asked) {
    if (asked.as !== as || asked.at !== at) return; // the person moved on while this was on its way
    if (state.at !== at) { // a place they may not see: the server showed #general instead
      at = state.at;
      remember();
    }
    revision = state.revision;
    place(byId("nav"), state.nav);
    place(byId("header"), state.header);
    document.title = `${state.title} · incident-bot playground`;
    const moved = drawn !== `${as} ${at}`;
    drawn = `${as} ${at}`;
    messages(state.items, moved);
    composer(state.composer);
    modal(state.modal);
  }

  function place(element, html) {
    if (shown.get(element) === html) return;
    const open = [...element.querySelectorAll("details")].map((d) => d.open);
    element.innerHTML = html;
    shown.set(element, html);
    element.querySelectorAll("details").forEach((d, i) => { if (open[i]) d.open = true; });
  }

  function messages(items, moved) {
    const list = byId("messages");
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    const wanted = new Set(items.map((item) => item.key));
    const existing = new Map();
    for (const li of [...list.children]) {
      if (wanted.has(li.dataset.key)) existing.set(li.dataset.key, li);
      else li.remove();
    }
    let previous = null;
    for (const item of items) {
      let li = existing.get(item.key);
      if (!li) {
        li = document.createElement("li");
        li.dataset.key = item.key;
      }
      place(li, item.html);
      const next = previous ? previous.nextSibling : list.firstChild;
      if (next !== li) list.insertBefore(li, next);
      previous = li;
    }
    if (atBottom || moved) list.scrollTop = list.scrollHeight;
  }

  function composer(placeholder) {
    const form = byId("composer");
    form.hidden = placeholder === null;
    if (placeholder !== null) byId("message").placeholder = `${placeholder} (try /incident help)`;
  }

  function modal(state) {
    const holder = byId("modal");
    if (!state) {
      holder.innerHTML = "";
      modalKey = null;
      return;
    }
    if (state.key === modalKey) return;
    modalKey = state.key;
    holder.innerHTML = state.html;
    const dialog = holder.querySelector("dialog");
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      send("/api/close", { view_id: dialog.dataset.view });
    });
    dialog.showModal();
    const invalid = dialog.querySelector("[aria-invalid=true]");
    const first = invalid && !invalid.matches("input, select, textarea") ? invalid.querySelector("input") : invalid;
    const target = first || dialog.querySelector("input, select, textarea");
    if (target) target.focus();
  }

  function entries(root) {
    const found = [];
    for (const field of root.querySelectorAll("[data-action-id]")) {
      const { block, actionId } = field.dataset;
      if (field.type === "radio" || field.type === "checkbox") {
        if (field.checked) found.push([block, actionId, field.value]);
      } else if (field.tagName === "SELECT") {
        for (const option of field.selectedOptions) found.push([block, actionId, option.value]);
      } else {
        found.push([block, actionId, field.value]);
      }
    }
    return found;
  }

  function go(where) {
    at = where;
    remember();
    refresh();
    if (where === "home") send("/api/home", {});
  }

  function press(button) {
    const action = {
      action_id: button.dataset.action,
      block_id: button.dataset.block,
      value: button.dataset.value,
      text: { type: "plain_text", text: button.dataset.label, emoji: true },
    };
    const view = button.closest("[data-view]");
    if (view && view.dataset.view) {
      send("/api/action", { action, view_id: view.dataset.view, entries: entries(view) });
      return;
    }
    const message = button.closest("[data-ts]");
    const ephemeral = message.hasAttribute("data-ephemeral");
    send("/api/action", { action, ts: ephemeral ? null : message.dataset.ts });
  }

  document.addEventListener("click", (event) => {
    const target = event.target.closest("a[data-place], a[data-channel], button");
    if (!target) return;
    const message = target.closest("[data-ts]");
    if (target.matches("a[data-place], a[data-channel]")) {
      event.preventDefault();
      go(target.dataset.place || target.dataset.channel);
    } else if (target.matches("[data-action]")) {
      press(target);
    } else if (target.matches("[data-react]")) {
      send("/api/reaction", { ts: message.dataset.ts, name: target.dataset.react });
    } else if (target.matches("[data-shortcut]")) {
      send("/api/shortcut", { ts: message.dataset.ts, callback_id: target.dataset.shortcut });
    } else if (target.matches("[data-dismiss]")) {
      send("/api/dismiss", { key: target.dataset.dismiss });
    } else if (target.matches("[data-close]")) {
      send("/api/close", { view_id: target.closest("dialog").dataset.view });
    }
  });

  document.addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.target;
    if (form.id === "composer") {
      const box = byId("message");
      const text = box.value;
      box.value = "";
      if (text.trim()) send("/api/message", { text });
    } else if (form.classList.contains("modal-form")) {
      const dialog = form.closest("dialog");
      send("/api/submit", { view_id: dialog.dataset.view, entries: entries(form) });
    }
  });

  byId("message").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      byId("composer").requestSubmit();
    }
  });

  byId("acting").addEventListener("change", (event) => {
    as = event.target.value;
    modalKey = null;
    remember();
    refresh();
  });

  remember();
  if (at === "home") send("/api/home", {});
  watch();
})();
