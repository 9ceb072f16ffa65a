"""MovR: a global vehicle-sharing web application."""

__version__ = "0.2.0"
