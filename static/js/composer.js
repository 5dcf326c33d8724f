// The SMS composer (templates/composer/_composer.html): insert expressions at the cursor,
// open saved messages, and tell the including screen whether its send button may be used.
// Every change of the text goes through an "input" event, so htmx refreshes the counter.
(() => {
  const rootOf = (element) => element.closest("[data-composer]");
  const bodyOf = (root) => root?.querySelector("[data-composer-body]");

  function setText(textarea, value) {
    textarea.value = value;
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function insertAtCursor(textarea, text) {
    // selectionStart survives the blur that tapping a button causes.
    const start = textarea.selectionStart ?? textarea.value.length;
    const end = textarea.selectionEnd ?? start;
    textarea.setRangeText(text, start, end, "end");
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function focusEnd(textarea) {
    textarea.focus();
    const end = textarea.value.length;
    textarea.setSelectionRange(end, end);
  }

  document.addEventListener("click", (event) => {
    const insert = event.target.closest("[data-insert]");
    if (insert) {
      const textarea = bodyOf(rootOf(insert));
      if (!textarea) return;
      insert.closest("dialog")?.close();
      insertAtCursor(textarea, insert.dataset.insert);
      textarea.focus();
      return;
    }
    const load = event.target.closest("[data-load-body]");
    if (load) {
      const root = rootOf(load);
      const textarea = bodyOf(root);
      if (!textarea) return;
      const name = root.querySelector("[data-composer-save-name]");
      if (name) name.value = load.dataset.loadName || "";
      const shared = root.querySelector('input[type="checkbox"][name="save_shared"]');
      if (shared && !shared.disabled) shared.checked = load.dataset.loadShared === "true";
      load.closest("dialog")?.close();
      setText(textarea, load.dataset.loadBody);
      focusEnd(textarea);
      return;
    }
    const opener = event.target.closest("[data-open-dialog]");
    if (opener) {
      const dialog = document.querySelector(opener.dataset.openDialog);
      if (!dialog) return;
      dialog.showModal();
      if (opener.dataset.focus) document.querySelector(opener.dataset.focus)?.focus();
      return;
    }
    const closer = event.target.closest("[data-close-dialog]");
    if (closer) closer.closest("dialog")?.close();
  });

  // Esc leaves a compose screen (its [data-hotkey="Escape"] link or button): with typed
  // text it first asks « Abandonner le message ? ». Runs before app.js's shortcuts (capture
  // on window); an open dialog or menu is closed by Esc as everywhere else.
  let leaving = null;
  const typed = (textarea) => {
    const value = textarea.value.trim();
    return value !== "" && value !== (textarea.dataset.pristine ?? "").trim();
  };
  const visibleHotkey = () =>
    [...document.querySelectorAll('[data-hotkey="Escape"]')].find(
      (element) => !element.disabled && element.offsetParent !== null,
    );
  window.addEventListener(
    "keydown",
    (event) => {
      if (event.key !== "Escape" || event.defaultPrevented) return;
      if (document.querySelector("dialog[open]")) return;
      if (document.querySelector("[data-topbar].is-open, [data-user-menu][open]")) return;
      const textarea = [...document.querySelectorAll("[data-composer-body]")].find(typed);
      const leave = textarea && visibleHotkey();
      const dialog = leave && rootOf(textarea)?.querySelector("[data-composer-leave]");
      if (!dialog) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      leaving = leave;
      dialog.showModal();
    },
    true,
  );
  document.addEventListener("click", (event) => {
    if (!event.target.closest("[data-composer-abandon]")) return;
    event.target.closest("dialog")?.close();
    const leave = leaving;
    leaving = null;
    if (!leave) return;
    // A submit button leaves through its form, without its own click confirmation.
    if (leave.form && leave.type === "submit") leave.form.requestSubmit(leave);
    else leave.click();
  });

  // Enter in the name field saves, and never submits the form the composer sits in.
  document.addEventListener("keydown", (event) => {
    const name = event.target.closest?.("[data-composer-save-name]");
    if (!name || event.key !== "Enter") return;
    event.preventDefault();
    rootOf(name)?.querySelector("[data-composer-save]")?.click();
  });

  // The including screen marks its send button(s) data-composer-send, or names them with
  // data-send-button="<selector>" on the composer; they are disabled while the message is
  // empty, too long or beyond the credits. A "composer:state" event says the same.
  function sync(root) {
    const preview = root.querySelector(".composer-preview");
    if (!preview) return;
    // The text box is the truth for "empty": the preview answers 300 ms after the last key,
    // and F2 pressed before it must not meet a button still disabled for an empty text.
    const body = bodyOf(root);
    const state = {
      empty: body ? body.value.trim() === "" : preview.dataset.empty === "true",
      overLimit: preview.dataset.overLimit === "true",
      creditsShort: preview.dataset.creditsShort === "true",
    };
    const blocked = state.empty || state.overLimit || state.creditsShort;
    root.toggleAttribute("data-blocked", blocked);
    const form = root.closest("form");
    const scope = form || document;
    // A form with two texts (A/B) sends when neither blocks, nor their total's credits.
    const held =
      blocked ||
      (form !== null &&
        form.querySelector('[data-composer][data-blocked], [data-send-blocker][data-credits-short="true"]') !== null);
    const selector = root.dataset.sendButton || "[data-composer-send]";
    for (const button of scope.querySelectorAll(selector)) button.disabled = held;
    root.dispatchEvent(new CustomEvent("composer:state", { bubbles: true, detail: state }));
  }

  function syncAll(container) {
    for (const root of container.querySelectorAll("[data-composer]")) sync(root);
    const root = container.closest?.("[data-composer]");
    if (root) sync(root);
    // The total of an A/B campaign changed: its form's composers say again.
    if (container.matches?.("[data-send-blocker]")) {
      for (const other of container.closest("form")?.querySelectorAll("[data-composer]") ?? []) sync(other);
    }
  }

  document.addEventListener("DOMContentLoaded", () => syncAll(document));
  document.addEventListener("input", (event) => {
    const root = event.target.closest?.("[data-composer-body]") && rootOf(event.target);
    if (root) sync(root);
  });
  // The new preview's verdict counts from the swap, not 20 ms later at the settle.
  document.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail.elt;
    syncAll(target?.isConnected ? target : document);
  });
  document.addEventListener("htmx:afterSettle", (event) => {
    const target = event.detail.elt;
    if (!target?.isConnected) return;
    // After « Remplacer les caractères spéciaux » the whole composer is new: give the
    // text box its focus back, so typing goes on where it was.
    if (target.matches?.("[data-composer][data-focus-body]")) {
      target.removeAttribute("data-focus-body");
      const textarea = bodyOf(target);
      if (textarea) focusEnd(textarea);
    }
  });
})();

// A form marked data-submit-once sends once: its buttons go disabled just after the
// submission starts (not before, or the clicked button's name and value would be lost).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.matches?.("[data-submit-once]") || event.defaultPrevented) return;
  setTimeout(() => {
    for (const button of form.querySelectorAll("button[type=submit], button:not([type])")) {
      button.disabled = true;
    }
  }, 0);
});
