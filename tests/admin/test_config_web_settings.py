"""The login and header settings of the web layer: defaults, and overrides from the environment."""

from __future__ import annotations

import pytest

from marketplace import create_app
from marketplace.config import ConfigError
from tests.conftest import TEST_SECRET


def _app(tmp_path):
    return create_app({"TESTING": True, "SECRET_KEY": TEST_SECRET, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})


def test_defaults(tmp_path, monkeypatch):
    for key in ("LOGIN_IP_MAX_FAILURES", "LOGIN_IP_WINDOW_MINUTES", "MAX_CONTENT_LENGTH", "CONTENT_SECURITY_POLICY"):
        monkeypatch.delenv(f"MARKETPLACE_{key}", raising=False)
    config = _app(tmp_path).config
    assert (config["LOGIN_IP_MAX_FAILURES"], config["LOGIN_IP_WINDOW_MINUTES"]) == (30, 15)
    assert config["MAX_CONTENT_LENGTH"] == 8 * 1024 * 1024
    assert "frame-ancestors 'none'" in config["CONTENT_SECURITY_POLICY"]


def test_environment_overrides(tmp_path, monkeypatch):
    monkeypatch.setenv("MARKETPLACE_LOGIN_IP_MAX_FAILURES", "100")
    monkeypatch.setenv("MARKETPLACE_LOGIN_IP_WINDOW_MINUTES", "5")
    monkeypatch.setenv("MARKETPLACE_MAX_CONTENT_LENGTH", "1048576")
    monkeypatch.setenv("MARKETPLACE_CONTENT_SECURITY_POLICY", "default-src 'self'")
    config = _app(tmp_path).config
    assert (config["LOGIN_IP_MAX_FAILURES"], config["LOGIN_IP_WINDOW_MINUTES"]) == (100, 5)
    assert (config["MAX_CONTENT_LENGTH"], config["CONTENT_SECURITY_POLICY"]) == (1048576, "default-src 'self'")


def test_a_bad_number_stops_the_start(tmp_path, monkeypatch):
    monkeypatch.setenv("MARKETPLACE_LOGIN_IP_MAX_FAILURES", "viele")
    with pytest.raises(ConfigError, match="whole number"):
        _app(tmp_path)
