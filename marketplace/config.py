"""Configuration: defaults, overridden by the environment (MARKETPLACE_* and DATABASE_URL).

Every setting is documented in README.md ("Konfiguration" / Configuration).
"""

from __future__ import annotations

import os
from pathlib import Path

DEV_SECRET = "dev-only-insecure-secret-change-me"


class ConfigError(RuntimeError):
    """Raised at start-up when the configuration is unsafe or inconsistent."""


#: Settings of the web layer that the environment may override (MARKETPLACE_<KEY>), with their type.
WEB_SETTINGS = {
    "LOGIN_IP_MAX_FAILURES": int,
    "LOGIN_IP_WINDOW_MINUTES": int,
    "MAX_CONTENT_LENGTH": int,
    "CONTENT_SECURITY_POLICY": str,
}


def _bool(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on", "ja"}


def load_config(instance_path: str, overrides: dict | None = None) -> dict:
    """Build the app configuration from defaults, the environment and `overrides` (tests)."""
    env = os.environ
    default_db = "sqlite:///" + str(Path(instance_path) / "marketplace.db")
    config = {
        "ENV_NAME": env.get("MARKETPLACE_ENV", "development"),
        "SECRET_KEY": env.get("MARKETPLACE_SECRET_KEY") or env.get("SECRET_KEY") or DEV_SECRET,
        "DATABASE_URL": env.get("DATABASE_URL", default_db),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(env.get("MARKETPLACE_SECURE_COOKIES"), False),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": int(env.get("MARKETPLACE_SESSION_HOURS", "8")) * 3600,
        "WTF_CSRF_HEADERS": ["X-CSRFToken", "X-CSRF-Token"],
        "WTF_CSRF_TIME_LIMIT": None,
        "LOGIN_MAX_FAILURES": int(env.get("MARKETPLACE_LOGIN_MAX_FAILURES", "5")),
        "LOGIN_LOCK_MINUTES": int(env.get("MARKETPLACE_LOGIN_LOCK_MINUTES", "15")),
        "TIMEZONE": "Europe/Berlin",
        "SMTP_HOST": env.get("MARKETPLACE_SMTP_HOST", ""),
        "SMTP_PORT": int(env.get("MARKETPLACE_SMTP_PORT", "25")),
        "MAIL_FROM": env.get("MARKETPLACE_MAIL_FROM", "gruppenboerse@localhost"),
        "NIGHTLY_TIME": env.get("MARKETPLACE_NIGHTLY_TIME", "02:00"),
        "HOUSEKEEPING_TIME": env.get("MARKETPLACE_HOUSEKEEPING_TIME", "01:30"),
        "TESTING": False,
    }
    # Web-layer settings whose defaults live in marketplace/web/__init__.py: set only when given.
    for key, kind in WEB_SETTINGS.items():
        value = env.get(f"MARKETPLACE_{key}")
        if value:
            try:
                config[key] = kind(value)
            except ValueError:
                raise ConfigError(f"MARKETPLACE_{key} must be a whole number, not {value!r}") from None
    if overrides:
        config.update(overrides)
    if config["ENV_NAME"] == "production":
        config["SESSION_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_SECURE"] = True
        if config["SECRET_KEY"] == DEV_SECRET or len(config["SECRET_KEY"]) < 32:
            raise ConfigError(
                "MARKETPLACE_SECRET_KEY must be set to a random value of at least 32 characters in production"
            )
    return config
