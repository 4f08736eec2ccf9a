/* Site-wide behaviour, kept out of the pages: the Content-Security-Policy runs no inline handlers.
   <form data-confirm="…"> asks the question before it submits. */
document.addEventListener("submit", function (event) {
  var message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});
