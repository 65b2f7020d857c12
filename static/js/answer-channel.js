// "Why another channel" is asked only when the answer goes another way than the customer chose.
// Without scripts the field is always there, and the server asks for it when it is needed.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-customer-channel]");
  if (!form) return;
  const reason = form.querySelector('[name="answer-reason"]').closest(".field");
  const show = () => {
    const chosen = form.querySelector('input[name="answer-channel"]:checked');
    const differs = chosen && chosen.value !== form.dataset.customerChannel;
    // A reason already written or refused stays in view whatever is chosen.
    reason.hidden = !differs && !reason.classList.contains("has-error")
      && !form.querySelector('[name="answer-reason"]').value;
  };
  form.addEventListener("change", show);
  show();
});
