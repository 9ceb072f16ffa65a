"""`movr chaos FAULT`: `movr load` against a local MovR while one fault is applied to its
database or its server, then a timeline and a verdict (issue 15)."""
