"""Template filters and values every page needs."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint
from flask_login import current_user

from movr.models.base import LOCATION_MAX
from movr.web.regions import served_cities, standing_in_for
from movr.web.runtime import runtime
from movr.web.ui.helpers import current_city


def localtime(moment: datetime, timezone: str) -> str:
    """Date and time in the city's time zone, e.g. `2026-11-23 14:05`."""
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


def localdate(moment: datetime, timezone: str) -> str:
    """Date in the city's time zone."""
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d")


def duration(length: timedelta | None) -> str:
    """`1 h 05 min`, `12 min`, or `<1 min`."""
    if length is None:
        return ""
    minutes = int(length.total_seconds() // 60)
    if minutes < 1:
        return "<1 min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def distance(metres: float) -> str:
    """`350 m`, `1.2 km`, `12 km`."""
    if metres < 1000:
        return f"{round(metres, -1):.0f} m"
    return f"{metres / 1000:.1f} km" if metres < 10_000 else f"{metres / 1000:.0f} km"


def navigation() -> dict[str, object]:
    """The navigation bar's city switcher (the city shown, the cities offered), the region
    this instance stands in for while that region's app is down, the ride bar's field limit."""
    settings = runtime().settings
    if not current_user.is_authenticated:
        return {"nav_city": None, "stand_in_for": None, "location_max": LOCATION_MAX}
    return {
        "nav_city": current_city(),
        "nav_cities": [settings.region_map.city(c) for c in served_cities(settings)],
        "stand_in_for": standing_in_for(settings),
        "location_max": LOCATION_MAX,
    }


def install(bp: Blueprint) -> None:
    """Make the filters and the navigation values available to every template of the app."""
    for template_filter in (localtime, localdate, duration, distance):
        bp.add_app_template_filter(template_filter)
    bp.app_context_processor(navigation)
