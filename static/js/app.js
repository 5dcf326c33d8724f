// Keyboard shortcuts of the products ShopSMS replaces: F2 validates, F9 sends an SMS
// from the client card, Esc closes. A page marks its buttons with data-hotkey.
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    const dialog = document.querySelector("dialog[open]");
    if (dialog) {
      dialog.close();
      event.preventDefault();
      return;
    }
  }
  if (!["Escape", "F2", "F9"].includes(event.key)) return;
  const target = [...document.querySelectorAll(`[data-hotkey="${event.key}"]`)].find(
    (element) => !element.disabled && element.offsetParent !== null,
  );
  if (target) {
    event.preventDefault();
    target.click();
  }
});

// A failed htmx request must not fail silently: say so, and hide it on the next success.
document.addEventListener("htmx:responseError", () => {
  document.getElementById("htmx-error")?.removeAttribute("hidden");
});
document.addEventListener("htmx:sendError", () => {
  document.getElementById("htmx-error")?.removeAttribute("hidden");
});
document.addEventListener("htmx:afterRequest", (event) => {
  if (event.detail.successful) document.getElementById("htmx-error")?.setAttribute("hidden", "");
});

// A form marked data-once goes once: its buttons are disabled as it is sent (after the
// submit event, so that the clicked button's name and value still go with it).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (event.defaultPrevented || !form.matches?.("form[data-once]")) return;
  setTimeout(() => {
    for (const button of form.querySelectorAll("button")) button.disabled = true;
  }, 0);
});
