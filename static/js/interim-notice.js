// The interim notice's text follows its estimate: when the date changes, the date written in the
// text changes with it, and whatever the user wrote around it stays. (The server still refuses a
// text that does not name the estimate: replies/operations.py.)
document.addEventListener("DOMContentLoaded", () => {
  const estimate = document.querySelector('input[name="interim_notice-estimate"]');
  const text = document.querySelector('textarea[name="interim_notice-text"]');
  if (!estimate || !text || !window.BankDates) return;
  const { parse, same, replaceDay } = window.BankDates;
  // The day the text was last written for; a half-typed estimate leaves it be.
  let written = parse(estimate.value);
  const follow = () => {
    const chosen = parse(estimate.value);
    if (!chosen) return;
    if (written && !same(chosen, written)) text.value = replaceDay(text.value, written, chosen);
    written = chosen;
  };
  estimate.addEventListener("input", follow);
  estimate.addEventListener("change", follow);
});
