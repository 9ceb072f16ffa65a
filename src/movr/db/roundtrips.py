"""Count the statements (database round trips) an engine sends, BEGIN and COMMIT included."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, event


class StatementCounter:
    """Records every statement, plus BEGIN/COMMIT/ROLLBACK of non-autocommit transactions.

    psycopg sends BEGIN and COMMIT as statements of their own, but SQLAlchemy reports them as
    transaction events rather than cursor executions; autocommit connections send neither.
    """

    def __init__(self, engine: Engine) -> None:
        """Count on `engine`: the one that owns the pool (`Database.pooled`) sees everything."""
        self.engine = engine
        self.statements: list[str] = []

    def _execute(self, _conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        self.statements.append(" ".join(statement.split())[:100])

    def _transaction(self, word: str) -> Any:
        def record(conn: Connection) -> None:
            # The driver's own mode decides whether it sends the word (an invalidated
            # connection sends nothing).
            if conn.invalidated:
                return
            if not conn.connection.dbapi_connection.autocommit:  # type: ignore[union-attr]
                self.statements.append(word)

        return record

    @contextmanager
    def counting(self) -> Iterator[list[str]]:
        """Collect statements sent inside the block (the list fills as they are sent)."""
        self.statements = []
        hooks = [
            ("before_cursor_execute", self._execute),
            ("begin", self._transaction("BEGIN")),
            ("commit", self._transaction("COMMIT")),
            ("rollback", self._transaction("ROLLBACK")),
        ]
        for name, hook in hooks:
            event.listen(self.engine, name, hook)
        try:
            yield self.statements
        finally:
            for name, hook in hooks:
                event.remove(self.engine, name, hook)
