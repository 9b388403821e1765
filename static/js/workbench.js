// Workbench pages: Ctrl+Enter submits the intake form; enterprise fields show only for 涉企 requests;
(function () {
  const form = document.getElementById("intake-form");
  if (!form) return;
  form.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.querySelector("button[name=create]").click();
    }
  });
  const flag = document.getElementById("id_is_enterprise");
  const fields = document.getElementById("enterprise-fields");
  const sync = function () { fields.hidden = !flag.checked; };
  flag.addEventListener("change", sync);
  sync();
})();
// Suggestions from the assist panel fill the field they name when clicked.
document.addEventListener("click", function (event) {
  const button = event.target.closest("button.fill");
  if (!button) return;
  if (button.dataset.check) {
    const box = document.getElementById(button.dataset.check);
    box.checked = true;
    box.dispatchEvent(new Event("change"));
    if (button.dataset.name) document.getElementById("id_enterprise_name").value = button.dataset.name;
    if (button.dataset.code) document.getElementById("id_enterprise_credit_code").value = button.dataset.code;
    return;
  }
  const field = document.getElementById(button.dataset.target);
  field.value = button.dataset.value;
  field.dispatchEvent(new Event("change"));
  // An answer taken from the knowledge base cites its article and opens the 直接答复 section.
  if (button.dataset.article) {
    document.getElementById("id_article").value = button.dataset.article;
    const section = field.closest("details");
    if (section) section.open = true;
    field.focus();
  }
});
// Screen pop: when the call centre reports a call at this seat, its number fills an empty phone field (which
// loads the caller's history) and the call is remembered so that the order is linked to it and its recording.
document.addEventListener("htmx:afterSwap", function (event) {
  if (event.target.id !== "call-pop") return;
  const pop = event.target.querySelector(".call-pop");
  const callField = document.getElementById("id_call_id");
  const phone = document.getElementById("id_caller_phone");
  if (!pop || !callField || callField.value) return;
  if (!phone.value) {
    phone.value = pop.dataset.caller;
    phone.dispatchEvent(new Event("change"));
  }
  if (phone.value === pop.dataset.caller) callField.value = pop.dataset.call;
});
