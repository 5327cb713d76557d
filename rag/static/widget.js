/* minusma-chat widget: <script src="https://HOST/widget.js" data-title="..." data-theme="light|dark" async></script>
   Adds a floating chat button that opens HOST/embed in an iframe. Everything lives in a shadow root, so no style
   leaks into or out of the host page. */
(() => {
  const script = document.currentScript;
  if (!script || window.__minusmaChat) return;
  window.__minusmaChat = true;
  const base = new URL(".", script.src);
  const title = script.dataset.title || "MINUSMA chat";
  const theme = script.dataset.theme === "dark" ? "dark" : "light";
  const src = new URL("embed", base);
  src.searchParams.set("title", title);
  src.searchParams.set("theme", theme);

  const host = document.createElement("div");
  host.setAttribute("data-minusma-chat", "");
  const root = host.attachShadow({mode: "open"});
  root.innerHTML = `
    <style>
      :host { all: initial; }
      .launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483646; width: 56px; height: 56px;
        border: 0; border-radius: 50%; background: #0b5cad; color: #fff; font: 600 24px/1 system-ui, sans-serif;
        box-shadow: 0 4px 14px rgba(0,0,0,.25); cursor: pointer; }
      .launcher:focus-visible { outline: 3px solid #ffbf47; outline-offset: 2px; }
      .panel { position: fixed; right: 20px; bottom: 88px; z-index: 2147483647; width: 360px; height: 560px;
        max-width: calc(100vw - 16px); max-height: calc(100vh - 104px); border: 1px solid #d1d9e0;
        border-radius: 12px; overflow: hidden; background: #fff; box-shadow: 0 8px 30px rgba(0,0,0,.3); }
      .panel[hidden] { display: none; }
      iframe { width: 100%; height: 100%; border: 0; display: block; }
      @media (max-width: 480px) { .panel { right: 8px; left: 8px; width: auto; bottom: 80px; } .launcher { right: 12px; bottom: 12px; } }
    </style>
    <div class="panel" role="dialog" aria-modal="false" hidden></div>
    <button class="launcher" type="button" aria-haspopup="dialog" aria-expanded="false">💬</button>`;
  const button = root.querySelector(".launcher");
  const panel = root.querySelector(".panel");
  button.setAttribute("aria-label", "Open " + title);
  panel.setAttribute("aria-label", title);
  let frame = null;

  function open() {
    if (!frame) {  // the chat loads on first open, not with the host page
      frame = document.createElement("iframe");
      frame.title = title;
      frame.src = src.toString();
      panel.appendChild(frame);
    }
    panel.hidden = false;
    button.setAttribute("aria-expanded", "true");
    button.setAttribute("aria-label", "Close " + title);
    button.textContent = "✕";
    frame.focus();
  }
  function close() {
    if (panel.hidden) return;
    panel.hidden = true;
    button.setAttribute("aria-expanded", "false");
    button.setAttribute("aria-label", "Open " + title);
    button.textContent = "💬";
    button.focus();
  }
  button.addEventListener("click", () => (panel.hidden ? open() : close()));
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") close(); });
  window.addEventListener("message", (e) => {
    if (e.origin === base.origin && e.data && e.data.type === "minusma-chat:close") close();
  });
  (document.body || document.documentElement).appendChild(host);
})();
