"""Database access: engines, the transaction retry helper, migrations, the embedded server."""
