// BarberPro pages work without this file; it only makes them nicer (no inline scripts: CSP).
(function () {
  "use strict";

  // One submission per form: a double tap must not book twice (the server is idempotent too).
  document.querySelectorAll("form[data-enhance]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent === "1") { event.preventDefault(); return; }
      form.dataset.sent = "1";
      form.classList.add("sending");
    });
  });

  // Booking step 3: changing the day fetches only the list of free times.
  var days = document.querySelector("form[data-enhance='days']");
  if (days && window.fetch) {
    days.addEventListener("click", function (event) {
      var button = event.target.closest("button[name='fecha']");
      if (!button) { return; }
      event.preventDefault();
      var params = new URLSearchParams(new FormData(days));
      params.set("fecha", button.value);
      var pageUrl = "/reservar?" + params.toString();
      params.set("parcial", "1");
      fetch("/reservar?" + params.toString(), { headers: { "Accept": "text/html" } })
        .then(function (response) { if (!response.ok) { throw new Error(String(response.status)); } return response.text(); })
        .then(function (html) {
          var target = document.getElementById("horarios");
          var holder = document.createElement("div");
          holder.innerHTML = html;
          var fresh = holder.querySelector("#horarios");
          if (target && fresh) { target.replaceWith(fresh); }
          days.querySelectorAll("button[name='fecha']").forEach(function (other) {
            other.setAttribute("aria-pressed", other === button ? "true" : "false");
          });
          history.replaceState(null, "", pageUrl);
        })
        .catch(function () { window.location.href = pageUrl; });
    });
  }

  // Copy the manage link.
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    if (!navigator.clipboard) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(button.dataset.copy).then(function () { button.textContent = "¡Copiado!"; });
    });
  });

  // A gentle hint while typing the phone; the server has the last word.
  var phone = document.getElementById("telefono");
  if (phone) {
    phone.addEventListener("blur", function () {
      var digits = phone.value.replace(/\D/g, "");
      phone.setAttribute("aria-invalid", phone.value && (digits.length < 10 || digits.length > 13) ? "true" : "false");
    });
  }
})();
