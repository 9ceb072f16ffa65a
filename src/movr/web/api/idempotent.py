"""Idempotent ride actions: a repeat with the same Idempotency-Key answers as the first did.

Each action is one statement that also writes the key (services.idempotency), run in
autocommit: a start or end is a single round trip. A repeat's statement fails on the key and
changes nothing; the answer is then rebuilt from what the key holds (the ride, whose start and
end never change once written, or the stored refusal).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Response, request
from pydantic import BaseModel

from movr.db.units import fresh
from movr.services import idempotency, rides
from movr.services.callers import Caller
from movr.services.errors import DomainError, InvalidInput
from movr.services.idempotency import Claim, StoredResponse
from movr.services.rides import RideView
from movr.web import observability
from movr.web.api.openapi import JSON
from movr.web.api.problems import MEDIA_TYPE, from_domain_error
from movr.web.runtime import runtime

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
# A pass ends in an answer unless the key had expired (it is then forgotten and reused) or was
# forgotten under us; more passes than this mean another request keeps taking the key.
PASSES = 3

# Runs the ride operation, with the rider's claim on the key if there is one.
RideAction = Callable[[Claim | None], RideView]
replay_ride = fresh(rides.get_ride)  # the key's ride as written, not as a replica last saw it


def idempotent(
    caller: Caller,
    body: BaseModel,
    *,
    act: RideAction,
    render: Callable[[RideView], BaseModel],
    status: int,
    on_success: Callable[[str], None],
) -> Response:
    """Run the ride action `act` and answer `status` with `render(ride)`.

    With an Idempotency-Key, the answer (a refusal too) is remembered and a repeat gets it
    again, changing nothing. A repeat is the same method and path with the same validated
    `body`, however its JSON was spelled. `on_success(region)` runs once per action that
    really happened.
    """
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        ride = act(None)
        return _done(ride, status, render, on_success, replayed=None)
    if not VALID_KEY.match(key):
        raise InvalidInput("Idempotency-Key", "Use 1 to 255 visible ASCII characters.")
    claim = Claim(
        caller=caller,
        key=key,
        city=runtime().settings.cities[0],  # keys live in the serving region: local writes
        fingerprint=idempotency.request_fingerprint(
            request.method, _route(), body.model_dump_json().encode()
        ),
        ttl=runtime().settings.idempotency_ttl,
    )
    for _ in range(PASSES):
        try:
            ride = act(claim)
        except idempotency.KeyTaken:
            pass  # the key answered before: replay it
        except DomainError as error:
            refused = _remember_refusal(claim, error)
            if refused is not None:
                return refused
        else:
            return _done(ride, status, render, on_success, replayed=False)
        answer = _replay(claim, status, render)
        if answer is not None:
            return answer
    raise idempotency.IdempotencyKeyInFlight("Another request keeps taking this Idempotency-Key.")


def _route() -> str:
    """The request's route and its arguments as parsed (a ride id in upper case or lower case
    is the same ride)."""
    rule = request.url_rule.rule if request.url_rule is not None else request.path
    return " ".join([rule, *(str(value) for value in (request.view_args or {}).values())])


def _done(
    ride: RideView,
    status: int,
    render: Callable[[RideView], BaseModel],
    on_success: Callable[[str], None],
    replayed: bool | None,
) -> Response:
    """The answer of an action that happened."""
    on_success(runtime().settings.region)
    observability.note_user(ride.rider_id)
    return _respond(status, render(ride).model_dump_json(), replayed=replayed)


def _remember_refusal(claim: Claim, error: DomainError) -> Response | None:
    """Answer the refusal and remember it; None if the key answered before (replay it)."""
    problem = from_domain_error(error)
    refusal = StoredResponse(problem.status, problem.model_dump_json(exclude_none=True))
    try:
        runtime().run(idempotency.remember_refusal, claim, refusal)
    except idempotency.KeyTaken:
        return None
    return _respond(refusal.status, refusal.body, replayed=False)


def _replay(claim: Claim, status: int, render: Callable[[RideView], BaseModel]) -> Response | None:
    """The answer a taken key holds; None once an expired key is forgotten (use it afresh)."""
    held = runtime().run(idempotency.remembered, claim)
    if held is None:
        runtime().run(idempotency.forget_expired, claim)
        return None
    if isinstance(held, StoredResponse):
        return _respond(held.status, held.body, replayed=True)
    ride = runtime().run(replay_ride, held.rider_id, held.ride_id)
    return _respond(status, render(ride).model_dump_json(), replayed=True)


def _respond(status: int, body: str, replayed: bool | None = None) -> Response:
    response = Response(body, status=status, mimetype=JSON if status < 400 else MEDIA_TYPE)
    if replayed is not None:
        response.headers[REPLAYED_HEADER] = "true" if replayed else "false"
    return response
