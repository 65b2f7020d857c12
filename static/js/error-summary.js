// After a refused action the error summary at the top takes the focus: a screen reader reads it
// out, and its links lead the keyboard to each field. (An inline script would break the CSP.)
document.addEventListener("DOMContentLoaded", () => {
  const summary = document.querySelector("[data-error-summary]");
  if (summary) summary.focus();
});
