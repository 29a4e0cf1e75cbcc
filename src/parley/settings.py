"""Configuration from the environment (contract section 9). Read once, passed explicitly."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

DATABASE_SCHEMES = ("sqlite", "postgresql", "postgres", "postgresql+psycopg", "memory")
EVENTS_SCHEMES = ("memory", "redis", "rediss", "unix")
SMS_GATEWAY_SCHEMES = ("kannel",)
SMS_WEBHOOK_PATH = "/sms/kannel"
# A web token must outlive a page's renewal margin (a third of its life) by a few seconds, and
# a leaked one should not last for days.
DEFAULT_QUEUE_TIMEOUT_MESSAGE = "Sorry, nobody is free to answer you now. Please try again later."
MIN_WEB_TOKEN_SECONDS = 10
MAX_WEB_TOKEN_SECONDS = 86_400
_URL_SAFE = re.compile(r"[A-Za-z0-9._~-]+")


LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
LOG_FORMATS = ("text", "json")


class ConfigurationError(ValueError):
    """A setting has a value Parley cannot use: the variable's name and why."""

    def __init__(self, name: str, why: str) -> None:
        super().__init__(f"{name}: {why}")
        self.name = name
        self.why = why


def _check_scheme(name: str, url: str, allowed: tuple[str, ...]) -> None:
    scheme = url.partition("://")[0]
    if "://" not in url or scheme not in allowed:
        raise ConfigurationError(name, f"{url!r} is not supported; use one of {', '.join(s + '://' for s in allowed)}")


def _choice(e: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = (e.get(name) or default).strip().lower()
    if value not in allowed:
        raise ConfigurationError(name, f"{value!r} is not one of {', '.join(allowed)}")
    return value


def _default_data_dir() -> Path:
    return Path(os.environ.get("PARLEY_DATA_DIR", "data")).resolve()


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = ""
    events_url: str = "memory://"
    rate_limit_per_second: float = 100.0
    rate_limit_burst: int = 200
    offer_timeout_seconds: float = 30.0
    queue_timeout_seconds: float = 0.0  # 0: a chat may wait for an agent for ever
    queue_timeout_message: str = DEFAULT_QUEUE_TIMEOUT_MESSAGE
    webtoken_rate_per_second: float = 5.0
    webtoken_rate_burst: int = 100
    token_failure_rate_per_second: float = 0.2
    token_failure_burst: int = 20
    web_token_seconds: int = 3600
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = field(default_factory=_default_data_dir)
    max_body_bytes: int = 64 * 1024
    request_head_timeout_seconds: float = 10.0
    request_body_timeout_seconds: float = 30.0
    send_timeout_seconds: float = 30.0
    session_queue_limit: int = 10_000
    token_cache_seconds: float = 5.0
    log_level: str = "info"
    log_format: str = "text"
    access_log: bool = False
    metrics: bool = True
    retention_days: float | None = None  # None: keep forever
    metrics_token: str = field(default="", repr=False)
    cors_origins: str = "*"
    # Webhooks (docs/webhooks.md): http:// and private, loopback, link-local targets allowed
    webhook_allow_private: bool = False
    # SMS (docs/sms.md): off unless a gateway is set
    sms_gateway: str = ""
    sms_webhook_secret: str = field(default="", repr=False)
    sms_webhook_url: str = ""
    sms_retry_attempts: int = 5
    sms_retry_backoff_seconds: float = 2.0
    sms_default_region: str = ""

    @property
    def sms_webhook_base(self) -> str:
        """Where the gateway reaches Parley's SMS webhooks (``.../mo`` and ``.../dlr`` below it)."""
        if self.sms_webhook_url:
            return self.sms_webhook_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("", "0.0.0.0", "::") else self.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}{SMS_WEBHOOK_PATH}"

    def __post_init__(self) -> None:
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{self.data_dir / 'parley.db'}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        e = os.environ if env is None else env

        def num(name: str, default: float) -> float:
            raw = e.get(name)
            if raw is None or raw == "":
                return default
            try:
                value = float(raw)
            except ValueError:
                raise ConfigurationError(name, f"{raw!r} is not a number") from None
            if value < 0:
                raise ConfigurationError(name, "must not be negative")
            return value

        data_dir = Path(e.get("PARLEY_DATA_DIR", "data")).resolve()
        if e.get("PARLEY_DATABASE_URL"):
            _check_scheme("PARLEY_DATABASE_URL", e["PARLEY_DATABASE_URL"], DATABASE_SCHEMES)
        if e.get("PARLEY_EVENTS_URL"):
            _check_scheme("PARLEY_EVENTS_URL", e["PARLEY_EVENTS_URL"], EVENTS_SCHEMES)
        _check_sms(e)
        return cls(
            database_url=e.get("PARLEY_DATABASE_URL", ""),
            events_url=e.get("PARLEY_EVENTS_URL", "memory://") or "memory://",
            rate_limit_per_second=num("PARLEY_RATE_LIMIT_PER_SECOND", 100),
            rate_limit_burst=int(num("PARLEY_RATE_LIMIT_BURST", 200)),
            offer_timeout_seconds=num("PARLEY_OFFER_TIMEOUT_SECONDS", 30),
            queue_timeout_seconds=num("PARLEY_QUEUE_TIMEOUT_SECONDS", 0),
            queue_timeout_message=e.get("PARLEY_QUEUE_TIMEOUT_MESSAGE", "").strip() or DEFAULT_QUEUE_TIMEOUT_MESSAGE,
            webtoken_rate_per_second=num("PARLEY_WEBTOKEN_RATE_PER_SECOND", 5),
            webtoken_rate_burst=int(num("PARLEY_WEBTOKEN_RATE_BURST", 100)),
            token_failure_rate_per_second=num("PARLEY_TOKEN_FAILURE_RATE_PER_SECOND", 0.2),
            token_failure_burst=int(num("PARLEY_TOKEN_FAILURE_BURST", 20)),
            web_token_seconds=_web_token_seconds(int(num("PARLEY_WEB_TOKEN_SECONDS", 3600))),
            host=e.get("PARLEY_HOST", "127.0.0.1") or "127.0.0.1",
            port=_port(int(num("PARLEY_PORT", 8080))),
            data_dir=data_dir,
            session_queue_limit=int(num("PARLEY_SESSION_QUEUE_LIMIT", 10_000)),
            request_head_timeout_seconds=num("PARLEY_REQUEST_HEAD_TIMEOUT_SECONDS", 10),
            request_body_timeout_seconds=num("PARLEY_REQUEST_BODY_TIMEOUT_SECONDS", 30),
            send_timeout_seconds=num("PARLEY_SEND_TIMEOUT_SECONDS", 30),
            log_level=_choice(e, "PARLEY_LOG_LEVEL", LOG_LEVELS, "info"),
            log_format=_choice(e, "PARLEY_LOG_FORMAT", LOG_FORMATS, "text"),
            access_log=_flag(e, "PARLEY_ACCESS_LOG"),
            metrics=_flag(e, "PARLEY_METRICS", default=True),
            retention_days=_retention_days(e.get("PARLEY_RETENTION_DAYS", "")),
            metrics_token=e.get("PARLEY_METRICS_TOKEN", ""),
            cors_origins=e.get("PARLEY_CORS_ORIGINS", "*") or "*",
            webhook_allow_private=_flag(e, "PARLEY_WEBHOOK_ALLOW_PRIVATE"),
            sms_gateway=e.get("PARLEY_SMS_GATEWAY", ""),
            sms_webhook_secret=e.get("PARLEY_SMS_WEBHOOK_SECRET", ""),
            sms_webhook_url=e.get("PARLEY_SMS_WEBHOOK_URL", ""),
            sms_retry_attempts=max(1, int(num("PARLEY_SMS_RETRY_ATTEMPTS", 5))),
            sms_retry_backoff_seconds=num("PARLEY_SMS_RETRY_BACKOFF_SECONDS", 2.0),
            sms_default_region=(e.get("PARLEY_SMS_DEFAULT_REGION", "") or "").upper(),
        )


def _flag(e: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = (e.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw in ("0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigurationError(name, f"{raw!r} is not a yes/no value (1/0, true/false, yes/no, on/off)")


def _web_token_seconds(seconds: int) -> int:
    if not MIN_WEB_TOKEN_SECONDS <= seconds <= MAX_WEB_TOKEN_SECONDS:
        raise ConfigurationError(
            "PARLEY_WEB_TOKEN_SECONDS", f"must be {MIN_WEB_TOKEN_SECONDS}..{MAX_WEB_TOKEN_SECONDS}, not {seconds}"
        )
    return seconds


def _retention_days(raw: str) -> float | None:
    if not raw.strip():
        return None
    try:
        days = float(raw)
    except ValueError:
        raise ConfigurationError("PARLEY_RETENTION_DAYS", f"{raw!r} is not a number of days") from None
    if not days > 0:
        raise ConfigurationError("PARLEY_RETENTION_DAYS", "must be more than 0 (unset keeps everything)")
    return days


def _port(port: int) -> int:
    if not 1 <= port <= 65535:
        raise ConfigurationError("PARLEY_PORT", f"must be 1..65535, not {port}")
    return port


def _check_sms(e: Mapping[str, str]) -> None:
    gateway = e.get("PARLEY_SMS_GATEWAY", "")
    if not gateway:
        return
    parts = urlsplit(gateway)
    if parts.scheme not in SMS_GATEWAY_SCHEMES or not parts.hostname or not parts.username or not parts.password:
        raise ConfigurationError(
            "PARLEY_SMS_GATEWAY", "must look like kannel://USER:PASSWORD@HOST:PORT (a sendsms-user of smsbox)"
        )
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when asked
    except ValueError:
        raise ConfigurationError("PARLEY_SMS_GATEWAY", "has an invalid port") from None
    secret = e.get("PARLEY_SMS_WEBHOOK_SECRET", "")
    if len(secret) < 16 or not _URL_SAFE.fullmatch(secret):
        raise ConfigurationError(
            "PARLEY_SMS_WEBHOOK_SECRET", "is required with PARLEY_SMS_GATEWAY: at least 16 letters, digits or . _ ~ -"
        )
    webhook = e.get("PARLEY_SMS_WEBHOOK_URL", "")
    if webhook and (urlsplit(webhook).scheme not in ("http", "https") or "%" in webhook or "?" in webhook):
        raise ConfigurationError("PARLEY_SMS_WEBHOOK_URL", "must be an http(s) URL without a query or %")
