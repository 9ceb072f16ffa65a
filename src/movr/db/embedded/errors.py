"""The error every part of the embedded server raises."""


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be initialised, started, stopped or reached."""
