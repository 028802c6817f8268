"""Gruppenbörse: the inter-provider group matching and capacity marketplace.

`create_app` is the application factory (Flask). The pure matching engine lives in
`marketplace.matching` and does not depend on anything here.
"""

from __future__ import annotations

import os

from flask import Flask

from . import db
from .config import load_config


def create_app(test_config: dict | None = None) -> Flask:
    """Create and configure the Flask application."""
    app = Flask(__name__, instance_relative_config=True,
                template_folder="web/templates", static_folder="web/static")
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(load_config(app.instance_path, test_config))
    db.init_app(app)

    from . import cli, web

    web.init_app(app)
    cli.init_app(app)
    return app
