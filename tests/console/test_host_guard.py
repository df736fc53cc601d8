"""The console serves only loopback, however it was started (issue 10, M5)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

from console._host_guard import extra_hosts, refusal
from console._supervisor import streamlit_command

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("host", ["127.0.0.1:8501", "localhost:8501", "[::1]:8501", "LOCALHOST"])
def test_requests_addressed_to_this_machine_are_served(host: str) -> None:
    assert refusal(bound_address="127.0.0.1", host_header=host) is None


@pytest.mark.parametrize(
    "host",
    [
        "attacker.example:8501",  # DNS rebinding: the attacker's name, re-pointed at 127.0.0.1
        "localhost.attacker.example",
        "127.0.0.1.attacker.example",
        "user@127.0.0.1",
        "127.0.0.1:99999",
        "",
    ],
)
def test_requests_addressed_to_another_name_are_refused(host: str) -> None:
    why = refusal(bound_address="127.0.0.1", host_header=host)
    assert why is not None and why.startswith("Refused: this console answers only")


@pytest.mark.parametrize("address", [None, "", "0.0.0.0", "::", "192.168.1.20"])
def test_listening_off_loopback_is_refused_even_for_a_loopback_host(address: str | None) -> None:
    why = refusal(bound_address=address, host_header="127.0.0.1:8501")
    assert why is not None and "only serves on loopback" in why


def test_a_named_proxy_host_is_allowed_on_any_address() -> None:
    allowed = extra_hosts({"LIGHTONOCR_CONSOLE_HOSTS": " ocr-console.corp.example , other "})
    assert allowed == {"ocr-console.corp.example", "other"}
    assert (
        refusal(bound_address="0.0.0.0", host_header="ocr-console.corp.example", allowed=allowed)
        is None
    )
    assert refusal(bound_address="0.0.0.0", host_header="attacker.example", allowed=allowed)


def test_the_app_bound_to_every_interface_shows_only_the_refusal() -> None:
    before = config.get_option("server.address")
    config.set_option("server.address", "0.0.0.0", "test")
    try:
        at = AppTest.from_file(ROOT / "console" / "ui" / "app.py", default_timeout=60).run()
    finally:
        config.set_option("server.address", before, "test")
    assert not at.exception
    [error] = at.error
    assert "only serves on loopback" in error.value
    assert not at.sidebar.markdown  # no platform, service or breaker shown


def test_the_console_passes_the_loopback_address_and_allowed_hosts_on_the_command_line() -> None:
    command = streamlit_command([], {})
    assert command[command.index("--server.address") + 1] == "127.0.0.1"
    hosts = [command[i + 1] for i, arg in enumerate(command) if arg == "--server.allowedHosts"]
    assert sorted(hosts) == ["127.0.0.1", "::1", "localhost"]
