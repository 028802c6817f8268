"""Browser steps shared by the journeys: log in as a demo user, log out, collect page errors."""

from __future__ import annotations

import re

from seed.generate import load_data


def login(page, base: str, email: str) -> None:
    """Log in with the demo password and wait for the dashboard."""
    page.goto(f"{base}/login")
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort").fill(load_data()["organisations"]["demo_password"])
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(f"{base}/")


def logout(page) -> None:
    page.locator(".user-menu summary").click()
    page.get_by_role("button", name="Abmelden").click()
    page.wait_for_url(re.compile(r"/login$"))


def watch(page) -> list[str]:
    """Console errors and uncaught page errors of `page`, collected while a journey runs."""
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"{msg.location['url']}: {msg.text}")
            if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    return problems
