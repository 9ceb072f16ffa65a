"""Simulated geo-distribution on one machine: round-trip matrix and latency proxies.

The matrix and the proxies (matrix, relay, latency, selfcheck, hops, latency_api,
latency_client, process) use asyncio and the standard library only: no Flask, no SQLAlchemy.
Submodules are deliberately not imported here, so that `python -m movr.simulation.latency`
runs its module exactly once.
"""
