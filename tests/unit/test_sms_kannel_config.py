"""The Kannel configuration Parley writes and the webhook URLs Kannel calls."""

from __future__ import annotations

import pytest

from parley.adapters.channels.kannel.config import KannelConfig, render_kannel_conf


def config(webhook_secret: str = "s3cret_-.~") -> KannelConfig:
    return KannelConfig("http://127.0.0.1:8080/sms/kannel/", webhook_secret, password="pw", admin_password="apw")


def groups(conf: str) -> dict[str, dict[str, str]]:
    parsed: dict[str, dict[str, str]] = {}
    for block in conf.strip().split("\n\n"):
        pairs = dict(line.split(" = ", 1) for line in block.splitlines())
        parsed[pairs.pop("group").strip('"')] = {key: value.strip('"') for key, value in pairs.items()}
    return parsed


def test_the_mo_url_carries_the_secret_and_kannel_escapes() -> None:
    assert config().mo_url == (
        "http://127.0.0.1:8080/sms/kannel/mo?secret=s3cret_-.~&from=%p&to=%P&text=%b&id=%I&time=%T&coding=%c&charset=%C"
    )


def test_the_dlr_url_names_the_message() -> None:
    assert config().dlr_url("msg_0f3c") == (
        "http://127.0.0.1:8080/sms/kannel/dlr?secret=s3cret_-.~&messageId=msg_0f3c"
        "&status=%d&answer=%A&smscId=%F&time=%T"
    )


@pytest.mark.parametrize("unsafe", ["a%41", "a&b", "a b", "ä", ""])
def test_values_kannel_would_misread_are_refused(unsafe: str) -> None:
    with pytest.raises(ValueError, match="webhook_secret"):
        config(webhook_secret=unsafe)
    with pytest.raises(ValueError, match="messageId"):
        config().dlr_url(unsafe)


@pytest.mark.parametrize("url", ["http://h/sms%20in", "http://h/sms?a=b"])
def test_a_webhook_url_kannel_would_misread_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="webhook_url"):
        KannelConfig(url, "s", password="p", admin_password="a")


def test_every_interface_is_bound_to_localhost() -> None:
    conf = groups(render_kannel_conf(config(), "/var/tmp/k"))
    assert conf["core"]["admin-interface"] == conf["core"]["smsbox-interface"] == "127.0.0.1"
    assert conf["core"]["box-allow-ip"] == conf["core"]["admin-allow-ip"] == "127.0.0.1"
    assert conf["smsbox"]["sendsms-interface"] == conf["smsc"]["our-host"] == "127.0.0.1"
    assert conf["smsc"]["connect-allow-ip"] == conf["sendsms-user"]["user-allow-ip"] == "127.0.0.1"


def test_the_services_are_wired_for_parley() -> None:
    cfg = config()
    conf = groups(render_kannel_conf(cfg, "/var/tmp/k"))
    assert conf["smsc"]["smsc"] == "fake"
    assert conf["smsc"]["port"] == str(cfg.fake_smsc_port)
    assert conf["smsbox"]["bearerbox-port"] == conf["core"]["smsbox-port"] == str(cfg.smsbox_port)
    assert conf["smsbox"]["mo-recode"] == "true"
    assert conf["sendsms-user"]["username"] == "parley"
    assert int(conf["sendsms-user"]["max-messages"]) >= 10
    assert conf["sms-service"]["get-url"] == cfg.mo_url
    assert conf["sms-service"]["max-messages"] == "0"
    assert conf["core"]["log-file"] == "/var/tmp/k/bearerbox.log"


def test_a_value_that_would_break_the_file_is_refused() -> None:
    with pytest.raises(ValueError, match="quotes"):
        render_kannel_conf(KannelConfig("http://x", "s", password='p"w', admin_password="a"), "/tmp")
