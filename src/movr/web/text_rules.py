"""What free text MovR accepts: one rule for the pages' forms and the JSON API alike."""

from __future__ import annotations

# C0 and C1 control characters: never part of a name, a brand or a place, and PostgreSQL's
# text cannot hold NUL at all. Spelled out instead of \S because JSON Schema (ECMA-262),
# pydantic (Rust) and Python disagree on what whitespace is.
CONTROL = r"\x00-\x1f\x7f-\x9f"
# Characters that show nothing on their own: zero-width spaces and joiners, the word joiner,
# the byte order mark.
INVISIBLE = r"\u200b-\u200f\u2060\ufeff"
# Free text: no control characters, and at least one character that can be seen.
FREE_TEXT = rf"^[^{CONTROL}]*[^\s{CONTROL}{INVISIBLE}][^{CONTROL}]*$"
FREE_TEXT_MESSAGE = "Use visible characters; control characters are not allowed."
# What people type as an identifier (a username to log in with): no control characters.
NO_CONTROL = rf"^[^{CONTROL}]*$"
