// The registration form's lookup in the customer register: matches appear as staff type, and
// "Use these details" fills the contact fields and links the case to that customer. Without
// this script the same buttons post the form and the page comes back with the matches
// (intake/views.py). The server checks who may search; it answers with at most 10 matches.
document.addEventListener("DOMContentLoaded", () => {
  const box = document.querySelector("[data-register-lookup]");
  if (!box) return;
  const form = box.closest("form");
  const query = box.querySelector('input[name="register_query"]');
  const results = box.querySelector("[data-register-results]");
  const linked = box.querySelector("[data-register-linked]");
  const linkedText = box.querySelector("[data-register-linked-text]");
  const customerId = form.querySelector('input[name="customer_id"]');
  const text = box.dataset;
  let timer = null;
  let asked = 0;

  const setField = (name, value) => {
    const field = form.elements.namedItem(name);
    if (!field) return;
    if (field instanceof RadioNodeList) {
      for (const option of field) option.checked = option.value === value;
    } else {
      field.value = value;
    }
    field.dispatchEvent?.(new Event("change", { bubbles: true }));
  };

  // In one pass, so that a name holding "{office}" stays as it is.
  const linkedSentence = (customer) => {
    const values = { number: customer.customer_number, name: customer.name,
      office: customer.home_office };
    return text.textLinked.replace(/\{(number|name|office)\}/g, (_, key) => values[key]);
  };

  const use = (customer) => {
    setField("name", customer.name);
    setField("street", customer.street);
    setField("postal_code", customer.postal_code);
    setField("city", customer.city);
    setField("country", customer.country);
    setField("phone", customer.phone);
    setField("email", customer.email);
    setField("segment", customer.segment);
    setField("language", customer.language);
    customerId.value = String(customer.id);
    linkedText.textContent = linkedSentence(customer);
    linked.hidden = false;
    results.replaceChildren();
    form.elements.namedItem("name").focus();
  };

  const show = (customers) => {
    if (!customers.length) {
      const none = document.createElement("p");
      none.textContent = text.textNone;
      results.replaceChildren(none);
      return;
    }
    const list = document.createElement("ul");
    for (const customer of customers) {
      const item = document.createElement("li");
      const match = document.createElement("span");
      match.className = "match";
      const name = document.createElement("strong");
      name.textContent = customer.name;
      const details = [customer.customer_number,
        `${customer.street}, ${customer.postal_code} ${customer.city}`,
        customer.phone, customer.email].filter(Boolean);
      match.append(name, ` · ${details.join(" · ")}`);
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = text.textUse;
      button.addEventListener("click", () => use(customer));
      item.append(match, " ", button);
      list.append(item);
    }
    results.replaceChildren(list);
  };

  const search = async () => {
    const typed = query.value.trim();
    if (typed.length < 2) {
      results.replaceChildren();
      return;
    }
    const mine = ++asked;
    try {
      const response = await fetch(`${text.url}?q=${encodeURIComponent(typed)}`, {
        headers: { Accept: "application/json" }, credentials: "same-origin",
      });
      if (!response.ok) throw new Error(String(response.status));
      const answer = await response.json();
      // An older answer arriving late does not replace the newer one.
      if (mine === asked) show(answer.customers);
    } catch {
      if (mine !== asked) return;
      const failed = document.createElement("p");
      failed.className = "error";
      failed.textContent = text.textFailed;
      results.replaceChildren(failed);
    }
  };

  query.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, 250);
  });
  query.addEventListener("keydown", (event) => {
    // Enter in the search field searches; elsewhere it registers.
    if (event.key === "Enter") {
      event.preventDefault();
      clearTimeout(timer);
      search();
    }
  });
  box.querySelector("[data-register-find]").addEventListener("click", (event) => {
    event.preventDefault();
    clearTimeout(timer);
    search();
  });
  box.querySelector("[data-register-unlink]").addEventListener("click", (event) => {
    event.preventDefault();
    customerId.value = "";
    linked.hidden = true;
    query.focus();
  });
});
