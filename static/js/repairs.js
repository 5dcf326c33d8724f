// « Retour atelier »: the client price follows workshop price × coefficient while the
// person has not typed one (the placeholder shows what will be recorded).
(() => {
  // As the server reads an amount (inputs.read_amount): spaces and « € » ignored; with
  // both marks the last is the decimal one (« 1.234,50 », « 1,234.50 »); one mark
  // repeated groups thousands (« 1.234.567 »); « 1.234 » alone is ambiguous: no price.
  const thousands = /^-?\d{1,3}(?:[.,]\d{3})+$/;
  const parse = (text) => {
    let cleaned = (text || "").replace(/[\s\u00a0\u202f€]/g, "");
    const marks = cleaned.replace(/[^.,]/g, "");
    if (new Set(marks).size === 2) {
      const decimal = marks[marks.length - 1];
      const at = cleaned.lastIndexOf(decimal);
      const whole = cleaned.slice(0, at);
      if (!thousands.test(whole) || whole.includes(decimal)) return null;
      cleaned = `${whole.replace(/[.,]/g, "")}.${cleaned.slice(at + 1)}`;
    } else if (marks.length > 1) {
      if (!thousands.test(cleaned)) return null;
      cleaned = cleaned.replace(/[.,]/g, "");
    } else if (marks && thousands.test(cleaned)) {
      return null;
    } else {
      cleaned = cleaned.replace(",", ".");
    }
    if (!/^-?(\d+\.?\d*|\.\d+)$/.test(cleaned)) return null;
    return Number(cleaned);
  };
  // Written back as the server writes an amount into a field (formats.amount_input):
  // two decimals, no grouping, the page's decimal mark.
  const written = new Intl.NumberFormat(document.documentElement.lang || "fr", {
    minimumFractionDigits: 2,
    maximumFractionDigits: 2,
    useGrouping: false,
  });
  const format = (value) => written.format(value);

  document.addEventListener("input", (event) => {
    const box = event.target.closest?.("[data-price]");
    if (!box) return;
    const price = parse(box.querySelector("[data-workshop-price]")?.value);
    const coefficient = parse(box.querySelector("[data-coefficient]")?.value);
    const client = box.querySelector("[data-client-price]");
    if (client && price !== null && coefficient !== null) {
      client.placeholder = format(Math.round(price * coefficient * 100) / 100);
    }
  });
})();

// A line is taken off the return before validating; nothing is recorded until then.
document.addEventListener("click", (event) => {
  const remove = event.target.closest?.("[data-remove-line]");
  if (remove) remove.closest(".return-line")?.remove();
});

// After a number is added, the field is emptied for the next scan; a number that was
// refused (its message goes to #return-error) stays typed, to be corrected.
// « Prévenir le client de nouveau » under a refusal: once the line is added, the refusal
// goes and the field is ready for the next scan.
document.addEventListener("htmx:afterRequest", (event) => {
  const button = event.detail.elt;
  if (!button.matches?.("[data-notify-again]") || !event.detail.successful) return;
  if (event.detail.xhr.getResponseHeader("HX-Retarget")) return;
  document.getElementById("return-error")?.replaceChildren();
  const scan = document.querySelector("[data-return-scan]");
  scan?.reset();
  scan?.querySelector('input[name="number"]')?.focus();
});

document.addEventListener("htmx:afterRequest", (event) => {
  const form = event.detail.elt;
  if (!form.matches?.("[data-return-scan]") || !event.detail.successful) return;
  const input = form.querySelector('input[name="number"]');
  if (event.detail.xhr.getResponseHeader("HX-Retarget")) {
    input?.select();
    return;
  }
  document.getElementById("return-error").replaceChildren();
  form.reset();
  input?.focus();
});

// « Envoyer » sends once: a second tap while the page loads would send the SMS twice.
document.addEventListener("submit", (event) => {
  if (!event.target.matches?.("#repair-send")) return;
  const button = event.target.querySelector('button[type="submit"]');
  if (button) setTimeout(() => { button.disabled = true; });
});
window.addEventListener("pageshow", (event) => {
  if (!event.persisted) return;
  for (const button of document.querySelectorAll('#repair-send button[type="submit"]')) {
    button.disabled = false;
  }
});

// « Retour atelier »: a scanner sends Enter after each number; in a line's field that
// must not validate the whole return (only F2 or « Valider le retour » do).
document.addEventListener("keydown", (event) => {
  if (event.key !== "Enter") return;
  const field = event.target;
  if (!field.closest?.("[data-return-form]")) return;
  if (field.matches("textarea, button, [type=submit]")) return;
  event.preventDefault();
});

// Confirmations of the ticket card (« Marquer comme rendue », « Annuler la fiche »).
document.addEventListener("click", (event) => {
  const opener = event.target.closest?.("[data-open-dialog]");
  if (opener) {
    document.getElementById(opener.dataset.openDialog)?.showModal();
    return;
  }
  const closer = event.target.closest?.("[data-close-dialog]");
  if (closer) closer.closest("dialog")?.close();
});

// The SMS screen's composer counts on the tickets' own clients, numbers and amounts,
// as the ticket list beside it does: its requests carry the tickets of the sending.
document.addEventListener("htmx:configRequest", (event) => {
  const form = event.detail.elt.closest?.("#repair-send");
  if (!form || !event.detail.path.startsWith("/composer/")) return;
  const ids = [...form.querySelectorAll(':scope > input[name="ticket_id"]')].map((i) => i.value);
  if (ids.length) event.detail.parameters.ticket_id = ids;
});

// The SAV SMS screen's recap follows the message and the STOP switch. The events are
// named here rather than filtered in hx-trigger: a filter is code htmx would evaluate,
// which the Content-Security-Policy forbids.
document.addEventListener("input", (event) => {
  if (event.target.form?.id === "repair-send" && event.target.name === "body") {
    document.body.dispatchEvent(new Event("recap-text-changed"));
  }
});
document.addEventListener("change", (event) => {
  if (event.target.form?.id === "repair-send" && event.target.name === "add_stop") {
    document.body.dispatchEvent(new Event("recap-stop-changed"));
  }
});
