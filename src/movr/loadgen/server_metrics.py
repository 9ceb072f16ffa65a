"""Transaction retries as the server counts them, read from its Prometheus `/metrics`."""

from __future__ import annotations

import re

import httpx

RETRIES_METRIC = "movr_transaction_retries_total"
_SAMPLE = re.compile(
    rf"^{RETRIES_METRIC}(?:\{{[^}}]*\}})?\s+([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)(?:\s|$)"
)


def sum_retries(exposition: str) -> float | None:
    """Sum of every `movr_transaction_retries_total` sample; None if the metric is not there.

    A labelled counter shows no sample until it first counts, so a page of MovR metrics
    without the line means zero retries; a page without any `movr_` metric means none at all.
    """
    total, seen = 0.0, False
    for line in exposition.splitlines():
        match = _SAMPLE.match(line)
        if match:
            total += float(match.group(1))
            seen = True
    if seen:
        return total
    return 0.0 if "\nmovr_" in "\n" + exposition else None


def read_retries(base_url: str, *, timeout: float, token: str | None = None) -> float | None:
    """Retries counted so far by the server at `base_url`; None when /metrics is unavailable."""
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    try:
        response = httpx.get(f"{base_url}/metrics", timeout=timeout, headers=headers)
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    return sum_retries(response.text)
