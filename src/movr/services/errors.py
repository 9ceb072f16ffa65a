"""Domain errors, each with a stable code that the UI and the API map once."""

from __future__ import annotations


class DomainError(Exception):
    """A request the domain refuses; `code` is stable and machine-readable."""

    code = "domain_error"
    status = 409

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """The thing does not exist, or is not visible to this user."""

    code = "not_found"
    status = 404


class Forbidden(DomainError):
    """The thing exists but belongs to someone else."""

    code = "forbidden"
    status = 403


class InvalidInput(DomainError):
    """A value is malformed or out of range."""

    code = "validation_error"
    status = 422

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class UsernameTaken(DomainError):
    """Another account already uses this username."""

    code = "username_taken"


class InvalidCredentials(DomainError):
    """Username or password is wrong (deliberately not saying which)."""

    code = "invalid_credentials"
    status = 401


class CityNotInRegion(DomainError):
    """The city is served by another region's instance."""

    code = "city_not_in_region"
    status = 422


class HomeRegionRequired(DomainError):
    """The action must happen at the instance serving the user's home city."""

    code = "home_region_required"
    status = 422

    def __init__(self, message: str, region: str) -> None:
        super().__init__(message)
        self.region = region


class VehicleUnavailable(DomainError):
    """The vehicle is in use or retired."""

    code = "vehicle_unavailable"


class AlreadyRiding(DomainError):
    """The rider already has an active ride."""

    code = "already_riding"


class VehicleInUse(DomainError):
    """The vehicle is being ridden, so it cannot be retired."""

    code = "vehicle_in_use"


class RideAlreadyEnded(DomainError):
    """The ride has ended before."""

    code = "ride_already_ended"


class StillRiding(DomainError):
    """The account has an active ride (or one of its vehicles is being ridden)."""

    code = "still_riding"
