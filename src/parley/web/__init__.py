"""Static pages and assets served by Parley (docs page, agent console, customer chat widget)."""

from __future__ import annotations

import hashlib
import mimetypes
from importlib import resources

from parley.api.http import Request, Response, Route

CACHE_CONTROL = "public, max-age=300, must-revalidate"
SECURITY_HEADERS = [
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
]


def _load() -> dict[str, tuple[bytes, str, str]]:
    files: dict[str, tuple[bytes, str, str]] = {}
    root = resources.files("parley.web") / "static"
    for entry in root.iterdir():
        if entry.is_file() and not entry.name.startswith("."):
            data = entry.read_bytes()
            kind = mimetypes.guess_type(entry.name)[0] or "application/octet-stream"
            if kind.startswith("text/") or kind in ("application/javascript", "application/json"):
                kind += "; charset=utf-8"
            etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
            files[entry.name] = (data, kind, etag)
    return files


def static_routes() -> list[Route]:
    files = _load()

    async def serve(request: Request) -> Response:
        found = files.get(request.path_params["name"])
        if found is None:
            return Response.json(
                {
                    "code": 404,
                    "message": "not found",
                    "errors": [{"scope": "path", "reason": "notFound", "message": "no such file"}],
                },
                404,
            )
        data, kind, etag = found
        headers = [
            ("content-type", kind),
            ("cache-control", CACHE_CONTROL),
            ("etag", etag),
            *SECURITY_HEADERS,
        ]
        if request.headers.get("if-none-match") == etag:
            return Response(304, b"", headers)
        return Response(200, data, headers)

    return [Route("GET", "/static/{name}", serve, "Static assets", "Meta", hidden=True)]
