// The API docs page: Swagger UI over /api/v1/openapi.json (a file of its own: the CSP allows no inline script).
(function () {
  var node = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: node.getAttribute("data-spec-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: false,
  });
})();
