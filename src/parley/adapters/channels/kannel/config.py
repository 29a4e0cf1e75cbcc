"""The Kannel configuration Parley writes: one bearerbox, one smsbox, every port on 127.0.0.1.

Inbound traffic reaches Parley through two webhook URLs under ``webhook_url``:
``{webhook_url}/mo`` for each handset message and ``{webhook_url}/dlr`` for each delivery
report. Both carry the shared secret as the ``secret`` query parameter; the remaining query
parameters are the ``MO_PARAMS`` and ``DLR_PARAMS`` below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

HOST = "127.0.0.1"
MO_PATH = "/mo"
DLR_PATH = "/dlr"
SECRET_PARAM = "secret"

# Query parameter -> Kannel escape. %b is the message body as sent; %a would rejoin its words
# with single spaces and lose line breaks.
MO_PARAMS: dict[str, str] = {
    "from": "%p",
    "to": "%P",
    "text": "%b",
    "id": "%I",
    "time": "%T",
    "coding": "%c",
    "charset": "%C",
}
# %d: 1 delivered, 2 failed, 4 buffered, 8 accepted by the SMSC, 16 rejected by the SMSC.
DLR_PARAMS: dict[str, str] = {
    "status": "%d",
    "answer": "%A",
    "smscId": "%F",
    "time": "%T",
}
DLR_MASK = 31
MAX_PARTS = 10


@dataclass(frozen=True, slots=True)
class KannelConfig:
    webhook_url: str
    webhook_secret: str = field(repr=False)
    password: str = field(repr=False)
    admin_password: str = field(repr=False)
    username: str = "parley"
    admin_port: int = 13000
    smsbox_port: int = 13001
    sendsms_port: int = 13013
    fake_smsc_port: int = 10000
    log_level: int = 1
    # Where Parley finds smsbox's sendsms interface; the configuration it writes binds 127.0.0.1.
    sendsms_host: str = HOST

    def __post_init__(self) -> None:
        _require_url_safe("webhook_secret", self.webhook_secret)
        if "%" in self.webhook_url or "?" in self.webhook_url:
            raise ValueError("webhook_url cannot hold % (Kannel reads it as an escape) or a query")

    @property
    def sendsms_url(self) -> str:
        host = f"[{self.sendsms_host}]" if ":" in self.sendsms_host else self.sendsms_host
        return f"http://{host}:{self.sendsms_port}/cgi-bin/sendsms"

    @property
    def mo_url(self) -> str:
        """The sms-service ``get-url``: Kannel fills in the escapes for each inbound SMS."""
        return self._webhook(MO_PATH, {}, MO_PARAMS)

    def dlr_url(self, message_id: str) -> str:
        """The per-message ``dlr-url`` that ties a delivery report back to ``message_id``."""
        return self._webhook(DLR_PATH, {"messageId": message_id}, DLR_PARAMS)

    def _webhook(self, path: str, fixed: dict[str, str], escapes: dict[str, str]) -> str:
        # Kannel reads every % in these URLs as an escape of its own, so fixed values must be
        # URL-safe as they are and the escapes stay literal (Kannel url-encodes what it fills in).
        for name, value in fixed.items():
            _require_url_safe(name, value)
        pairs = {SECRET_PARAM: self.webhook_secret, **fixed, **escapes}
        query = "&".join(f"{name}={value}" for name, value in pairs.items())
        return f"{self.webhook_url.rstrip('/')}{path}?{query}"


def render_kannel_conf(cfg: KannelConfig, log_dir: str) -> str:
    """The whole ``kannel.conf`` shared by bearerbox and smsbox; logs go to ``log_dir``."""
    groups: list[dict[str, str | int]] = [
        {
            "group": "core",
            "admin-port": cfg.admin_port,
            "admin-interface": HOST,
            "admin-password": cfg.admin_password,
            "admin-allow-ip": HOST,
            "smsbox-port": cfg.smsbox_port,
            "smsbox-interface": HOST,
            "box-allow-ip": HOST,
            "box-deny-ip": "*.*.*.*",
            "log-file": f"{log_dir}/bearerbox.log",
            "log-level": cfg.log_level,
            "dlr-storage": "internal",
        },
        {
            "group": "smsc",
            "smsc": "fake",
            "smsc-id": "fake",
            "our-host": HOST,
            "port": cfg.fake_smsc_port,
            "connect-allow-ip": HOST,
        },
        {
            "group": "smsbox",
            "bearerbox-host": HOST,
            "bearerbox-port": cfg.smsbox_port,
            "sendsms-port": cfg.sendsms_port,
            "sendsms-interface": HOST,
            "mo-recode": "true",
            "log-file": f"{log_dir}/smsbox.log",
            "log-level": cfg.log_level,
        },
        {
            "group": "sendsms-user",
            "username": cfg.username,
            "password": cfg.password,
            "user-allow-ip": HOST,
            "user-deny-ip": "*.*.*.*",
            "concatenation": "true",
            "max-messages": MAX_PARTS,
        },
        {
            "group": "sms-service",
            "keyword": "default",
            "catch-all": "true",
            "get-url": cfg.mo_url,
            # Our webhook's reply body must never go back to the handset as an SMS.
            "max-messages": 0,
            "concatenation": "true",
        },
    ]
    return "\n".join(_render_group(group) for group in groups)


_URL_SAFE = re.compile(r"[A-Za-z0-9._~-]+")


def _require_url_safe(name: str, value: str) -> None:
    if not _URL_SAFE.fullmatch(value):
        raise ValueError(f"{name} must be made of letters, digits and . _ ~ - only")


def _render_group(group: dict[str, str | int]) -> str:
    lines = [f"{key} = {_value(value)}" for key, value in group.items()]
    return "\n".join(lines) + "\n"


def _value(value: str | int) -> str:
    if isinstance(value, int):
        return str(value)
    if any(char in value for char in '"\\\n'):
        raise ValueError(f"a Kannel configuration value cannot hold quotes, backslashes or newlines: {value!r}")
    return f'"{value}"'
