"""Idempotent API actions: a repeat with the same Idempotency-Key replays the first answer."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Response, request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from movr.db.transaction import transaction_aborted
from movr.services import idempotency
from movr.services.errors import DomainError, InvalidInput
from movr.services.idempotency import Claim, StoredResponse
from movr.web.api.openapi import JSON
from movr.web.api.problems import MEDIA_TYPE, from_domain_error
from movr.web.auth import CurrentUser
from movr.web.runtime import runtime

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


class _RefusedByDatabase(Exception):
    """The action's refusal came from a statement that aborted the transaction."""

    def __init__(self, answer: StoredResponse) -> None:
        super().__init__(answer.body)
        self.answer = answer


def idempotent(
    user: CurrentUser,
    operation: str,
    action: Callable[[Session], BaseModel],
    status: int,
    on_success: Callable[[str], None],
) -> Response:
    """Run `action` in one transaction and answer `status` with what it returns.

    With an Idempotency-Key, the answer (a refusal too) is stored in that same transaction, and
    a repeat returns it and changes nothing. `on_success(region)` runs once per action that
    really happened (not for replays or refusals).
    """
    region = runtime().settings.region
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        result = runtime().transact(action, operation)
        on_success(region)
        return Response(result.model_dump_json(), status=status, mimetype=JSON)
    if not VALID_KEY.match(key):
        raise InvalidInput("Idempotency-Key", "Use 1 to 255 visible ASCII characters.")
    claim = Claim(
        user_id=user.id,
        key=key,
        city=runtime().settings.cities[0],  # keys live in the serving region: local writes
        fingerprint=idempotency.request_fingerprint(
            request.method, request.path, request.get_data()
        ),
        ttl=runtime().settings.idempotency_ttl,
    )
    answer, replayed = _answer_once(
        claim, operation, lambda s: StoredResponse(status, action(s).model_dump_json())
    )
    if not replayed and answer.status == status:
        on_success(region)
    mimetype = JSON if answer.status < 400 else MEDIA_TYPE
    response = Response(answer.body, status=answer.status, mimetype=mimetype)
    response.headers[REPLAYED_HEADER] = "true" if replayed else "false"
    return response


def _answer_once(
    claim: Claim, operation: str, perform: Callable[[Session], StoredResponse]
) -> tuple[StoredResponse, bool]:
    """The answer of `perform`, stored under the key; or the answer stored before (replayed)."""
    try:
        return runtime().transact(
            lambda s: _perform_and_remember(s, claim, perform), operation
        ), False
    except _RefusedByDatabase as refused:
        # Nothing of the action stands; its refusal is remembered in a transaction of its own.
        refusal = refused.answer
        try:
            return runtime().transact(lambda s: _remember(s, claim, refusal), operation), False
        except idempotency.KeyTaken:
            pass
    except idempotency.KeyTaken:
        pass  # the work just done was rolled back with the transaction
    return runtime().read(lambda s: idempotency.first_response(s, claim), "replay_response"), True


def _perform_and_remember(
    session: Session, claim: Claim, perform: Callable[[Session], StoredResponse]
) -> StoredResponse:
    try:
        answer = perform(session)
    except DomainError as error:
        refusal = _refusal(error)
        if transaction_aborted(session):  # e.g. a unique key refused a second active ride
            raise _RefusedByDatabase(refusal) from error
        answer = refusal
    return _remember(session, claim, answer)


def _remember(session: Session, claim: Claim, answer: StoredResponse) -> StoredResponse:
    idempotency.remember(session, claim, answer)
    return answer


def _refusal(error: DomainError) -> StoredResponse:
    problem = from_domain_error(error)
    return StoredResponse(problem.status, problem.model_dump_json(exclude_none=True))
