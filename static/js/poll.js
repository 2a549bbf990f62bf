// Dashboard tiles poll with htmx ("every 10s"). A hidden tab does not poll; coming back refreshes
// every tile at once. Loaded as a static file, so the CSP needs no inline script.
document.addEventListener("htmx:beforeRequest", function (event) {
  if (document.hidden && event.detail.elt.hasAttribute("data-poll")) {
    event.preventDefault();
  }
});
document.addEventListener("visibilitychange", function () {
  if (!document.hidden && window.htmx) {
    document.querySelectorAll("[data-poll]").forEach(function (tile) {
      window.htmx.trigger(tile, "refresh");
    });
  }
});
// The navigation's menu button on narrow screens.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-nav-toggle]");
  if (!button) return;
  var open = button.getAttribute("aria-expanded") === "true";
  button.setAttribute("aria-expanded", open ? "false" : "true");
  document.body.classList.toggle("nav-open", !open);
});
// "Back" links (the 403 page): the previous page when there is one, else their href (home).
document.addEventListener("click", function (event) {
  var link = event.target.closest("[data-back]");
  if (link && window.history.length > 1 && document.referrer) {
    event.preventDefault();
    window.history.back();
  }
});
