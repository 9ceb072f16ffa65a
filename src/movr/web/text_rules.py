"""What free text MovR accepts: one rule for the pages' forms and the JSON API alike."""

from __future__ import annotations

# C0 and C1 control characters: never part of a name, a brand or a place, and PostgreSQL's
# text cannot hold NUL at all; and the bidirectional embeddings, overrides and isolates, which
# let a name shown to others read as something else. Spelled out instead of \S because JSON
# Schema (ECMA-262), pydantic (Rust) and Python disagree on what whitespace is.
CONTROL = r"\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
# Characters that show nothing on their own: soft hyphen, combining grapheme joiner, Hangul
# fillers, zero-width spaces, joiners and marks, word joiner, Braille blank, variation
# selectors, byte order mark.
INVISIBLE = r"\u00ad\u034f\u115f\u1160\u200b-\u200f\u2060\u2800\u3164\ufe00-\ufe0f\ufeff"
# Free text: no control characters, and at least one character that can be seen.
FREE_TEXT = rf"^[^{CONTROL}]*[^\s{CONTROL}{INVISIBLE}][^{CONTROL}]*$"
FREE_TEXT_MESSAGE = "Use visible characters; control characters are not allowed."
# What people type as an identifier (a username to log in with): no control characters.
NO_CONTROL = rf"^[^{CONTROL}]*$"
