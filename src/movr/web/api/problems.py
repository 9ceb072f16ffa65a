"""RFC 9457 problem responses: one shape for every API error."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flask import Response
from pydantic import ValidationError

from movr.services.errors import DomainError
from movr.web.api.schemas import FieldError, Problem

PROBLEM_TYPE = "urn:movr:problem:"
MEDIA_TYPE = "application/problem+json"

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}
CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}


def problem(
    status: int,
    detail: str,
    *,
    code: str | None = None,
    errors: Iterable[FieldError] | None = None,
) -> Problem:
    """Problem details for a status; the code defaults to the status's generic one."""
    code = code or CODES.get(status, "error")
    return Problem(
        type=PROBLEM_TYPE + code,
        title=TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        code=code,
        errors=list(errors) if errors is not None else None,
    )


def problem_response(body: Problem, headers: Mapping[str, str] | None = None) -> Response:
    """Serialize a problem with its media type and status."""
    response = Response(
        body.model_dump_json(exclude_none=True), status=body.status, mimetype=MEDIA_TYPE
    )
    response.headers.update(headers or {})
    return response


def from_domain_error(error: DomainError) -> Problem:
    """A domain refusal, with its stable code."""
    field = getattr(error, "field", None)
    errors = [FieldError(field=field, message=error.message)] if field else None
    return problem(error.status, error.message, code=error.code, errors=errors)


def from_validation_error(error: ValidationError, location: str) -> Problem:
    """422 listing each invalid field (`body.email`, `query.limit`, …); 400 for broken JSON."""
    details = error.errors(include_url=False, include_input=False)
    if any(item["type"] == "json_invalid" for item in details):
        return problem(400, "The request body is not valid JSON.", code="malformed_json")
    fields = [
        FieldError(
            field=".".join([location, *(str(part) for part in item["loc"])]),
            message=item["msg"],
        )
        for item in details
    ]
    return problem(422, "Some fields are invalid.", errors=fields)
