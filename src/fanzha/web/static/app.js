// Fanzha page behaviour: htmx requests carry the session's CSRF token.
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta && meta.content) { event.detail.headers["X-CSRF-Token"] = meta.content; }
});
