"""WTForms forms; lengths mirror the database columns so input is bounded twice."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    Field,
    FloatField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import HiddenInput

from movr.models.base import BRAND_MAX, COLOR_MAX, EMAIL_MAX, LOCATION_MAX, NAME_MAX, USERNAME_MAX
from movr.models.vehicle import VehicleType
from movr.services.users import PASSWORD_MAX, PASSWORD_MIN
from movr.web.text_rules import FREE_TEXT, FREE_TEXT_MESSAGE, NO_CONTROL

# Names, brands, places: what the API's schemas accept (movr.web.text_rules).
VISIBLE_TEXT = Regexp(FREE_TEXT, message=FREE_TEXT_MESSAGE)


class ActionForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF ships no type hints
    """A button that posts: only the CSRF token."""


class LoginForm(FlaskForm):  # type: ignore[misc]
    """Username and password."""

    username = StringField(
        "Username",
        [DataRequired(), Length(max=USERNAME_MAX), Regexp(NO_CONTROL, message="Invalid username.")],
    )
    password = PasswordField("Password", [DataRequired(), Length(max=PASSWORD_MAX)])
    next = HiddenField()


class RegisterForm(FlaskForm):  # type: ignore[misc]
    """A new account with its home city."""

    city = SelectField("City", [InputRequired()])
    first_name = StringField("First name", [DataRequired(), Length(max=NAME_MAX), VISIBLE_TEXT])
    last_name = StringField("Last name", [DataRequired(), Length(max=NAME_MAX), VISIBLE_TEXT])
    email = EmailField("Email", [DataRequired(), Length(max=EMAIL_MAX), Email()])
    username = StringField(
        "Username",
        [
            DataRequired(),
            Length(min=3, max=USERNAME_MAX),
            Regexp(
                r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
                message="Use letters, digits, '.', '_' or '-', starting with a letter or digit.",
            ),
        ],
    )
    password = PasswordField(
        "Password", [DataRequired(), Length(min=PASSWORD_MIN, max=PASSWORD_MAX)]
    )
    confirm = PasswordField(
        "Confirm password", [DataRequired(), EqualTo("password", message="Passwords must match.")]
    )

    def __init__(self, city_choices: list[SelectChoice], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.city.choices = city_choices


class _PositionFields:
    """Optional coordinates set by a click on the map: both or neither, as over the API."""

    latitude = FloatField("Latitude", [Optional(), NumberRange(-90, 90)], widget=HiddenInput())
    longitude = FloatField("Longitude", [Optional(), NumberRange(-180, 180)], widget=HiddenInput())

    def validate_latitude(self, _field: Field) -> None:
        """WTForms' inline validator, run for a coordinate that was given (Optional() skips an
        empty one): the other one must be there too."""
        if any(f.data is None for f in self._position_fields()):
            raise ValidationError("Give both latitude and longitude, or neither.")

    validate_longitude = validate_latitude

    def _position_fields(self) -> list[Field]:
        return [getattr(self, "latitude"), getattr(self, "longitude")]  # noqa: B009

    @property
    def position_errors(self) -> list[str]:
        """What is wrong with the map position (its fields are hidden, so shown apart)."""
        return [str(error) for f in self._position_fields() for error in f.errors]

    def drop_bad_position(self) -> None:
        """Forget a position that is not valid, so that the form shown again does not send it
        back (its fields are hidden: nobody could correct it)."""
        if self.position_errors:
            for f in self._position_fields():
                f.data, f.raw_data = None, []


class AddVehicleForm(FlaskForm, _PositionFields):  # type: ignore[misc]
    """A vehicle in the owner's home city."""

    type = SelectField(
        "Type",
        [InputRequired()],
        choices=[SelectChoice(t.value, t.value.capitalize()) for t in VehicleType],
    )
    color = StringField("Color", [DataRequired(), Length(max=COLOR_MAX), VISIBLE_TEXT])
    brand = StringField("Brand", [DataRequired(), Length(max=BRAND_MAX), VISIBLE_TEXT])
    location = StringField("Location", [DataRequired(), Length(max=LOCATION_MAX), VISIBLE_TEXT])


class EndRideForm(FlaskForm, _PositionFields):  # type: ignore[misc]
    """Where the rider leaves the vehicle."""

    location = StringField("End location", [DataRequired(), Length(max=LOCATION_MAX), VISIBLE_TEXT])


def text(field: Field) -> str:
    """A validated text field's value (required fields are never empty after validation)."""
    return str(field.data or "")


def fail(field: Field, message: str) -> None:
    """Show an error next to a field (e.g. a refusal from the service layer)."""
    field.errors = [*field.errors, message]
