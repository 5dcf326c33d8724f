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
    if (closeMenus()) {
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

// Behaviour that pages ask for by attribute, since the Content-Security-Policy runs no
// inline handler: data-confirm asks before a button acts or a form goes, data-autosubmit
// sends its form on change, data-select-on-focus selects its text, data-print prints.
document.addEventListener("click", (event) => {
  const button = event.target.closest?.("button[data-confirm], a[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
    event.stopImmediatePropagation();
    return;
  }
  if (event.target.closest?.("[data-print]")) window.print();
});
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.matches?.("form[data-confirm]") && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
});
document.addEventListener("change", (event) => {
  const field = event.target.closest?.("[data-autosubmit]");
  if (field?.form) field.form.requestSubmit();
});
document.addEventListener("focusin", (event) => {
  if (event.target.matches?.("[data-select-on-focus]")) event.target.select();
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

// The header's menus: « Menu » on a narrow screen opens the areas over the page (with the
// person's menu open inside); the person's menu opens on a tap. A tap elsewhere or Esc
// closes them.
const topbar = () => document.querySelector("[data-topbar]");
function setMenu(open) {
  const bar = topbar();
  if (!bar) return;
  bar.classList.toggle("is-open", open);
  bar.querySelector("[data-menu-toggle]")?.setAttribute("aria-expanded", String(open));
  const user = bar.querySelector("[data-user-menu]");
  if (user && window.matchMedia("(max-width: 899px)").matches) user.open = open;
}
function closeMenus() {
  const bar = topbar();
  const user = bar?.querySelector("[data-user-menu][open]");
  const wasOpen = Boolean(bar?.classList.contains("is-open") || user);
  if (bar?.classList.contains("is-open")) setMenu(false);
  if (user) user.open = false;
  return wasOpen;
}
document.addEventListener("click", (event) => {
  if (event.target.closest?.("[data-menu-toggle]")) {
    setMenu(!topbar().classList.contains("is-open"));
    return;
  }
  if (!event.target.closest?.(".topbar-menu")) closeMenus();
});

// A field's message slot (id "<field>-error") filled or emptied by an out-of-band swap
// (the campaign selection's live count): the field says so too.
document.addEventListener("htmx:oobAfterSwap", (event) => {
  const slot = event.target;
  if (!slot?.id?.endsWith("-error") || !slot.classList?.contains("field-error")) return;
  const field = document.getElementById(slot.id.slice(0, -"-error".length));
  if (!field) return;
  if (slot.textContent.trim()) {
    field.setAttribute("aria-invalid", "true");
    const described = (field.getAttribute("aria-describedby") || "").split(" ");
    if (!described.includes(slot.id)) {
      field.setAttribute("aria-describedby", [...described, slot.id].join(" ").trim());
    }
  } else {
    field.removeAttribute("aria-invalid");
  }
});

// « Liste des clients »: the date and time chosen in « Envoi différé » become the date of
// sending shown above the text, as StarMag's screen shows it.
document.addEventListener("change", (event) => {
  if (!event.target.matches?.("#defer-date, #defer-time")) return;
  const shown = document.querySelector("[data-send-moment]");
  const day = document.getElementById("defer-date")?.value;
  const hour = document.getElementById("defer-time")?.value;
  if (!shown || !day || !hour) return;
  const [year, month, date] = day.split("-");
  shown.querySelector("[data-send-moment-value]").textContent = `${date}/${month}/${year} ${hour}`;
  shown.querySelector("[data-send-moment-note]").textContent = shown.dataset.deferredLabel;
});
