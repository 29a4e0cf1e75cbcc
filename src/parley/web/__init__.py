"""Static pages and assets served by Parley (docs page, agent console, customer chat widget)."""

from __future__ import annotations

import hashlib
import mimetypes
from importlib import resources

CACHE_CONTROL = "public, max-age=300, must-revalidate"
SECURITY_HEADERS = [
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
]


def load_static() -> dict[str, tuple[bytes, str, str]]:
    """Every file of ``static/`` by name: its bytes, content type and ETag."""
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
