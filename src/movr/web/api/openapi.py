"""Declared API operations: one declaration validates requests, serializes responses and
produces the OpenAPI 3.1 document."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import Any, Literal

from flask import Blueprint, Response, request
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge, UnsupportedMediaType

from movr.services.errors import InvalidInput
from movr.web import consistency
from movr.web.api.auth import authenticate, identify
from movr.web.api.problems import MEDIA_TYPE, from_validation_error
from movr.web.api.schemas import Problem
from movr.web.login_limits import limit_login, limit_registration

JSON = "application/json"
ALWAYS = (500, 503)
WITH_AUTH = (401, 403)
WITH_BODY = (400, 413, 415, 422)
PATH_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


class RequestInvalid(Exception):
    """The request does not match its declared schema; carries the problem to send."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail)
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Operation:
    """One method on one path, as declared."""

    method: str
    rule: str
    name: str
    summary: str
    tag: str
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    errors: tuple[int, ...]
    auth: bool | Literal["caller"]
    idempotent: bool

    @property
    def path(self) -> str:
        """The OpenAPI path template (`/rides/{ride_id}`)."""
        return PATH_PARAM.sub(r"{\2}", self.rule)

    def all_errors(self) -> list[int]:
        """Every error status this operation can answer."""
        codes = set(self.errors) | set(ALWAYS)
        if self.auth:
            codes |= set(WITH_AUTH)
        if self.body is not None:
            codes |= set(WITH_BODY)
        if self.query is not None or self.idempotent:
            codes.add(422)
        if PATH_PARAM.search(self.rule):
            codes.add(404)  # a malformed id matches no route
        if self.query is not None and "cursor" in self.query.model_fields:
            codes.add(404)  # a cursor that does not decode names no page
        return sorted(codes)


@dataclass(frozen=True, slots=True)
class Declared:
    """An operation as declared by `operation`: its spec and the Flask view that serves it."""

    operation: Operation
    handler: Callable[..., Response]


def operation(
    method: str,
    rule: str,
    *,
    summary: str,
    tag: str,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int | None = None,
    errors: tuple[int, ...] = (),
    auth: bool | Literal["caller"] = True,
    idempotent: bool = False,
    rate_limited: Literal["login", "register"] | None = None,
) -> Callable[[Callable[..., Any]], Declared]:
    """Declare an operation (`Api.register` serves it); the view gets `user`, `body`, `query`
    as needed.

    `auth="caller"`: the view gets `caller` instead of `user`, a Caller that its statements
    resolve (a bearer token is not looked up first).
    """

    success = status or (200 if response is not None else 204)

    def declare(view: Callable[..., Any]) -> Declared:
        spec = Operation(
            method, rule, view.__name__, summary, tag, body, query, response, success,
            errors + ((429,) if rate_limited else ()), auth, idempotent,
        )  # fmt: skip

        @wraps(view)
        def handler(**path_args: Any) -> Response:
            arguments: dict[str, Any] = dict(path_args)
            caller = identify() if auth == "caller" else None
            if caller is not None:
                arguments["caller"] = caller
            elif auth:
                arguments["user"] = authenticate()
            try:
                if body is not None:
                    arguments["body"] = parse_body(body)
                if query is not None:
                    arguments["query"] = parse_query(query)
                return render(view(**arguments), success)
            except (RequestInvalid, InvalidInput, HTTPException):
                # Refused before any statement checked the token (bad body, media type,
                # size, key): a bad token answers 401 first, as on every other operation.
                if caller is not None and caller.token_hash is not None:
                    authenticate()
                raise

        limit = {"login": limit_login, "register": limit_registration}.get(rate_limited or "")
        return Declared(spec, limit(handler) if limit is not None else handler)

    return declare


class Api:
    """The operations served by a blueprint, in the order they were registered."""

    def __init__(self, blueprint: Blueprint) -> None:
        self.blueprint = blueprint
        self.operations: list[Operation] = []

    def register(self, *declared: Declared) -> None:
        """Serve each declared operation on the blueprint (its endpoint is the view's name)."""
        for each in declared:
            spec = each.operation
            self.operations.append(spec)
            self.blueprint.add_url_rule(
                spec.rule, endpoint=spec.name, view_func=each.handler, methods=[spec.method]
            )


def parse_body(model: type[BaseModel]) -> BaseModel:
    """Validate the JSON body against `model` (415 if it is not JSON)."""
    if request.mimetype != JSON:
        raise UnsupportedMediaType("Send the body as application/json.")
    body = request.get_data()
    limit = request.max_content_length
    if limit is not None and len(body) >= limit:
        # A body without Content-Length (chunked) is cut at the limit, not refused by it.
        raise RequestEntityTooLarge()
    try:
        return model.model_validate_json(body)
    except ValidationError as error:
        raise RequestInvalid(from_validation_error(error, "body")) from None


def parse_query(model: type[BaseModel]) -> BaseModel:
    """Validate the query string against `model`."""
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as error:
        raise RequestInvalid(from_validation_error(error, "query")) from None


def render(result: BaseModel | Response | None, status: int) -> Response:
    """Serialize a view's result as JSON (204 for None)."""
    if isinstance(result, Response):
        return result
    if result is None:
        empty = Response(status=status)
        del empty.headers["Content-Type"]  # no content, so no content type
        return empty
    return Response(result.model_dump_json(), status=status, mimetype=JSON)


def build_spec(
    api: Api,
    *,
    title: str,
    version: str,
    description: str,
    enums: Mapping[str, list[str]] | None = None,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every declared operation.

    `enums` pins values known only at run time (the region map's cities): keys are
    `Model.field` for body fields and `field` for query parameters.
    """
    models: set[type[BaseModel]] = {Problem}
    for op in api.operations:
        models |= {m for m in (op.body, op.response) if m is not None}
    _, schema = models_json_schema(
        [(model, "validation") for model in sorted(models, key=lambda m: m.__name__)],
        ref_template="#/components/schemas/{model}",
    )
    paths: dict[str, dict[str, Any]] = {}
    for op in api.operations:
        paths.setdefault((api.blueprint.url_prefix or "") + op.path, {})[op.method.lower()] = (
            _operation_spec(op)
        )
    components = schema.get("$defs", {})
    for key, values in (enums or {}).items():
        model, _, field = key.rpartition(".")
        if model:
            components[model]["properties"][field]["enum"] = values
        else:
            for operations in paths.values():
                for spec in operations.values():
                    for parameter in spec["parameters"]:
                        if parameter["in"] == "query" and parameter["name"] == field:
                            parameter["schema"] = {"type": "string", "enum": values}
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": (
                        "A token from POST /api/v1/auth/token (a browser session's token is "
                        "refused here). An account keeps at most MOVR_MAX_API_TOKENS (default "
                        "10) live tokens: a new one beyond that revokes the oldest."
                    ),
                }
            },
        },
    }


def _operation_spec(op: Operation) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "operationId": op.name,
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": _parameters(op),
        "responses": _responses(op),
        "security": [{"bearer": []}] if op.auth else [],
    }
    if op.body is not None:
        spec["requestBody"] = {
            "required": True,
            "content": {JSON: {"schema": {"$ref": f"#/components/schemas/{op.body.__name__}"}}},
        }
    return spec


# Any string: a value MovR cannot read is ignored (it is a hint for consistency, and the
# reads fall back to what the replica shows), so no value is refused.
READ_AFTER_SCHEMA = {"type": "string"}
READ_AFTER_PARAMETER = {
    "name": consistency.HEADER,
    "in": "header",
    "required": False,
    "description": (
        "Read your own writes: send back the MovR-Read-After value of your last write's "
        "response, and reads wait (briefly) until the region's replica shows that write, or "
        "go to the primary. Without it, or with a value MovR cannot read, reads may lag your "
        "writes by up to the replica's lag."
    ),
    "schema": READ_AFTER_SCHEMA,
}
READ_AFTER_RESPONSE = {
    "description": "Your write's position: send it back on your next requests (read-your-writes).",
    "schema": READ_AFTER_SCHEMA,
}


def _parameters(op: Operation) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = []
    for converter, name in PATH_PARAM.findall(op.rule):
        schema = {"type": "string", "format": "uuid"} if converter == "uuid" else {"type": "string"}
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    if op.query is not None:
        query_schema = op.query.model_json_schema()
        required = set(query_schema.get("required", []))
        for name, prop in query_schema["properties"].items():
            parameters.append(
                {"name": name, "in": "query", "required": name in required, "schema": prop}
            )
    parameters.append(READ_AFTER_PARAMETER)
    if op.idempotent:
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "Repeat a request safely: the first response is replayed.",
                "schema": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 255,
                    "pattern": "^[\\x21-\\x7e]+$",
                },
            }
        )
    return parameters


def _responses(op: Operation) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    if op.response is None:
        responses[str(op.status)] = {"description": "Done."}
    else:
        responses[str(op.status)] = {
            "description": "Success.",
            "content": {JSON: {"schema": {"$ref": f"#/components/schemas/{op.response.__name__}"}}},
        }
    if op.method != "GET":
        responses[str(op.status)]["headers"] = {consistency.HEADER: READ_AFTER_RESPONSE}
    problem = {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for code in op.all_errors():
        responses[str(code)] = {"description": "Problem details (RFC 9457).", "content": problem}
    return responses
