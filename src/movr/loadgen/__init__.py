"""`movr load`: simulated riders driving a running MovR over its JSON API only.

Nothing here imports `movr.web` or `movr.services`: the generator sees the server as any other
client would, and reads the database only afterwards, to check the invariants.
"""
