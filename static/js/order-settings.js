// Order Settings: the custom processing status is asked for only when Order Status is Custom.
// Without this script both fields show, and the server checks the choice.
for (const source of document.querySelectorAll("select[data-toggles-custom-status]")) {
  const status = source.form.elements.namedItem("processing_status");
  const field = status && status.closest(".field");
  if (!field) continue;
  const toggle = () => {
    field.hidden = source.value !== "custom";
  };
  source.addEventListener("change", toggle);
  toggle();
}
