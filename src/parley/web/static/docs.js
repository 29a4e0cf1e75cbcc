// Renders /openapi.json as a readable page. No framework, no inline script (CSP friendly).
(function () {
  "use strict";
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) {
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }
  function render(spec) {
    var main = document.getElementById("docs");
    main.textContent = "";
    main.appendChild(el("h1", {}, [spec.info.title]));
    main.appendChild(el("p", {}, [spec.info.description || ""]));
    main.appendChild(el("p", {}, [el("a", { href: "/openapi.json" }, ["OpenAPI 3.1 document"])]));
    var byTag = {};
    Object.keys(spec.paths).forEach(function (path) {
      Object.keys(spec.paths[path]).forEach(function (method) {
        var op = spec.paths[path][method];
        var tag = (op.tags || ["Other"])[0];
        (byTag[tag] = byTag[tag] || []).push({ path: path, method: method, op: op });
      });
    });
    Object.keys(byTag).forEach(function (tag) {
      main.appendChild(el("h2", {}, [tag]));
      byTag[tag].forEach(function (e) {
        var params = (e.op.parameters || []).map(function (p) {
          return el("tr", {}, [el("td", {}, [el("code", {}, [p.name])]), el("td", {}, [p.in]),
            el("td", {}, [p.required ? "required" : "optional"]), el("td", {}, [p.description || ""])]);
        });
        var body = e.op.requestBody ? JSON.stringify(e.op.requestBody.content, null, 2) : "";
        var statuses = Object.keys(e.op.responses || {}).join(", ");
        main.appendChild(el("section", { class: "op" }, [
          el("div", {}, [el("span", { class: "m " + e.method }, [e.method.toUpperCase()]), " ",
            el("code", {}, [e.path])]),
          el("p", {}, [e.op.summary || ""]),
          params.length ? el("table", {}, params) : el("span", {}, []),
          body ? el("details", {}, [el("summary", {}, ["Request body"]), el("pre", {}, [body])]) : el("span", {}, []),
          el("p", {}, ["Responses: " + statuses])
        ]));
      });
    });
  }
  fetch("/openapi.json").then(function (r) { return r.json(); }).then(render);
})();
