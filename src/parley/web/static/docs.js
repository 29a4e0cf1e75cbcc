// The /docs page: Swagger UI (vendored, see swagger-ui.VERSION) on Parley's own OpenAPI document.
// No inline script: the page's Content-Security-Policy allows only scripts from this server.
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#docs",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    validatorUrl: null, // never send the document to an outside validator
    tryItOutEnabled: false,
    displayRequestDuration: true,
    defaultModelsExpandDepth: 1,
  });
});
