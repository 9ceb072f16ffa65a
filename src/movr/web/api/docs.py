"""The OpenAPI document and a human page generated from it."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, render_template
from flask.typing import ResponseReturnValue

from movr import __version__
from movr.web.api.openapi import Api, build_spec
from movr.web.runtime import runtime

SPEC_KEY = "movr.openapi"

DESCRIPTION = (
    "MovR's JSON API. Authenticate with `POST /api/v1/auth/token` and send "
    "`Authorization: Bearer <token>`. Errors are RFC 9457 problem details with a stable `code`."
)


class Docs:
    """The two documentation views of one Api (registered by the API's blueprint)."""

    def __init__(self, api: Api) -> None:
        self.api = api

    def openapi_document(self) -> dict[str, Any]:
        """The document for this app's region map and serving region (built once per app)."""
        extensions = current_app.extensions
        if SPEC_KEY not in extensions:
            settings = runtime().settings
            extensions[SPEC_KEY] = build_spec(
                self.api,
                title="MovR API",
                version=__version__,
                description=DESCRIPTION,
                enums={
                    "Registration.city": [city.id for city in settings.region_map],
                    "city": list(settings.cities),
                },
            )
        document: dict[str, Any] = extensions[SPEC_KEY]
        return document

    def openapi_json(self) -> ResponseReturnValue:
        """The OpenAPI 3.1 document."""
        return jsonify(self.openapi_document())

    def docs_page(self) -> str:
        """Every operation with its parameters, body and responses."""
        return render_template("api_docs.html", spec=self.openapi_document())
