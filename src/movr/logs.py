"""Structured logs: JSON lines in production, readable lines in development (structlog)."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog

from movr.config import Settings


class NamedWriteLogger(structlog.WriteLogger):
    """structlog's WriteLogger (a line per event, flushed) with the name it was asked for."""

    def __init__(self, name: str, file: TextIO) -> None:
        super().__init__(file)
        self.name = name


def configure_logging(settings: Settings, stream: TextIO | None = None) -> None:
    """One format, one stream (stdout unless given) for MovR's events and the standard
    library's.

    MovR's own events (an access log line per request) go from structlog straight to the
    stream, filtered by level before any processor runs: the standard library's loggers,
    handler and lock made a line about a third dearer. Records of other libraries (gunicorn,
    SQLAlchemy, ...) still arrive through `logging` and are rendered the same way.
    """
    out = stream or sys.stdout
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if settings.log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(settings.log_level),
        logger_factory=lambda name="movr", *_: NamedWriteLogger(name, out),
        # Cached loggers keep the stream they were built with: not for a stream of the
        # caller's own (tests), which configuring again may replace.
        cache_logger_on_first_use=stream is None,
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(settings.log_level)
