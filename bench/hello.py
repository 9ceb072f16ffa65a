"""The framework ceiling: a Flask "hello world" under MovR's own gunicorn settings."""

from __future__ import annotations

import argparse
import secrets
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from movr.config import Settings
from movr.web.server import gunicorn_options


def hello_app() -> Flask:
    """One JSON endpoint, no database: what Flask + gunicorn cost on their own."""
    app = Flask("hello")

    @app.get("/hello")
    def hello() -> dict[str, str]:
        return {"hello": "world"}

    return app


class HelloServer(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
    """gunicorn with MovR's options, serving hello_app."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return hello_app()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    settings = Settings.from_env({"SECRET_KEY": secrets.token_urlsafe(32), "PORT": str(port)})
    options = gunicorn_options(settings, "127.0.0.1")
    options.pop("child_exit")
    HelloServer(options).run()
