// The team lead's "select all on this page": one box in the bulk bar ticks every row's box.
// Without scripts the box stays hidden and each row is ticked by hand.
document.addEventListener("DOMContentLoaded", () => {
  for (const all of document.querySelectorAll("input[data-select-all]")) {
    const rows = () => all.form.querySelectorAll('input[name="case_ids"]');
    all.closest("label").hidden = false;
    all.addEventListener("change", () => rows().forEach((box) => { box.checked = all.checked; }));
  }
});
