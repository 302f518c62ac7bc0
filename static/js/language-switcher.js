// The language menu switches as soon as a language is picked. A file of its own, not an
// onchange attribute: the Content-Security-Policy runs no inline script.
for (const select of document.querySelectorAll("select[data-submit-on-change]")) {
  select.addEventListener("change", () => select.form.submit());
}
