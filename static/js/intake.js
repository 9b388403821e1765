// Intake form: Ctrl+Enter submits from any field; enterprise fields show only for 涉企 requests.
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
