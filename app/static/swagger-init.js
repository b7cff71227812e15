// Starts Swagger UI on /api/v1/docs (app/templates/swagger_ui.html): the page's CSP
// allows no inline script, so the spec URL comes from a data attribute.
window.addEventListener("load", () => {
  const container = document.getElementById("swagger-ui-container");
  window.ui = window.SwaggerUIBundle({
    url: container.dataset.specUrl,
    dom_id: "#swagger-ui-container",
  });
});
