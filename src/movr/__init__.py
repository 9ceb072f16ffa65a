"""MovR: a global vehicle-sharing web application."""

__version__ = "0.1.0"
