// The feedback form tells assistive technology what is needed as the customer chooses: the
// contact details and the channel are required only when an answer is wanted, and a Finnish
// postal code (digits) gets a number keypad. Without scripts the server's marks stand as sent.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("feedback-form");
  if (!form) return;
  const postalCode = form.querySelector("[data-postal-code]");
  const country = form.querySelector('select[name="country"]');
  const update = () => {
    const wanted = form.querySelector('input[name="reply_wanted"]:checked')?.value === "yes";
    form.querySelectorAll("[data-answer-required]").forEach((input) => {
      if (input.type === "radio") input.required = wanted;
      else input.setAttribute("aria-required", String(wanted));
    });
    if (postalCode && country) postalCode.inputMode = country.value === "FI" ? "numeric" : "text";
  };
  form.addEventListener("change", update);
  update();
});
