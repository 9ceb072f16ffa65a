"""Who a write statement acts for, resolved by that statement itself.

A page request holds a browser session's token, an API request a bearer token (or that session).
Checking the token in a statement of its own would cost a round trip before every write (70-150
ms between regions), so the ride actions, retiring a vehicle and deleting an account take the
`Caller` and resolve it in their `caller` CTE: the token is checked in the same snapshot as the
work, and a dead token or a deleted account makes the statement change nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from movr.services.tokens import API, LIVE_TOKEN, SESSION, TokenKind, token_hash


class UnknownCaller(Exception):
    """The token is invalid, expired or revoked, or the account was deleted: nothing changed."""


@dataclass(frozen=True, slots=True)
class Caller:
    """A live account's id, or an API token that a statement will resolve to one."""

    user_id: uuid.UUID | None = None
    token_hash: str | None = None
    token_kind: TokenKind = API  # where the token came from: a token counts only there

    @classmethod
    def of(cls, rider: Caller | uuid.UUID) -> Caller:
        """A caller from a user id (what services and tests mostly hold) or a caller."""
        return rider if isinstance(rider, Caller) else cls(user_id=rider)

    @classmethod
    def bearer(cls, token: str) -> Caller:
        """Whoever holds this API token (checked by the statement that uses it)."""
        return cls(token_hash=token_hash(token))

    @classmethod
    def session(cls, token: str) -> Caller:
        """Whoever holds this browser session's token (from its cookie)."""
        return cls(token_hash=token_hash(token), token_kind=SESSION)

    def parameters(self) -> dict[str, Any]:
        """The parameters of the `CALLER` CTE."""
        return {
            "caller_id": self.user_id,
            "caller_token_hash": self.token_hash,
            "caller_token_kind": self.token_kind,
        }


# One row (the live account's id) or none. The token's scalar subquery runs once, before the
# primary-key read of users.
CALLER = f"""caller AS (
        SELECT users.id FROM users
        WHERE users.deleted_at IS NULL AND users.id = coalesce(
            CAST(:caller_id AS uuid),
            (SELECT api_tokens.user_id FROM api_tokens
             WHERE api_tokens.token_hash = CAST(:caller_token_hash AS text)
               AND api_tokens.kind = CAST(:caller_token_kind AS text) AND {LIVE_TOKEN}))
    )"""  # noqa: S608 -- constant SQL, no input
# The resolved caller's id in a statement's result row (NULL: the caller is unknown).
CALLER_ID = "(SELECT id FROM caller)"
