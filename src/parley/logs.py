"""Logging of ``parley serve``: text that reads well in a terminal, or one JSON object a line.

``PARLEY_LOG_FORMAT=json`` sends every line, uvicorn's included, through ``JsonFormatter``:
``time``, ``level``, ``logger``, ``message``, the ``requestId`` and ``orgId`` of the request it was
written for, and the fields a line carries as ``extra`` (``parley.service.lifecycle``).
"""

from __future__ import annotations

import json
import logging
import logging.config
from typing import Any, Final

from parley.api.log_context import request_fields
from parley.clock import iso

TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# What every LogRecord has; anything else on a record came as ``extra``.
_STANDARD: Final = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message", "taskName"}
UVICORN_LOGGERS: Final = ("uvicorn", "uvicorn.error", "uvicorn.access")
_ACCESS_FIELDS: Final = ("client", "method", "path", "httpVersion", "status")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": iso(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **request_fields(),
        }
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            line.update(zip(_ACCESS_FIELDS, record.args, strict=True))
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def configure(level: str, log_format: str) -> dict[str, Any] | None:
    """Set up the root logger; returns the ``log_config`` to give uvicorn (None: leave it ours)."""
    if log_format != "json":
        logging.basicConfig(level=level.upper(), format=TEXT_FORMAT)
        logging.getLogger("alembic").setLevel(logging.WARNING)
        return _uvicorn_default()
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"json": {"()": JsonFormatter}},
            "handlers": {
                "stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
            },
            "root": {"handlers": ["stderr"], "level": level.upper()},
            "loggers": {
                "alembic": {"level": "WARNING"},
                **{name: {"handlers": [], "propagate": True} for name in UVICORN_LOGGERS},
            },
        }
    )
    return None


def _uvicorn_default() -> dict[str, Any]:
    from uvicorn.config import LOGGING_CONFIG

    return LOGGING_CONFIG
