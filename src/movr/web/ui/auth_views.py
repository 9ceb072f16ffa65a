"""Log in, log out, register."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse
from wtforms import SelectChoice

from movr.services import users
from movr.services.errors import InvalidCredentials, InvalidInput, UsernameTaken
from movr.web.auth import CurrentUser, end_session, login_required, start_session
from movr.web.login_limits import (
    count_account_attempt,
    limit_login,
    limit_registration,
    login_succeeded,
)
from movr.web.runtime import runtime
from movr.web.security import is_safe_next
from movr.web.ui.forms import ActionForm, LoginForm, RegisterForm, fail, text
from movr.web.ui.helpers import me, see_other


def index() -> BaseResponse:
    """Vehicles for people who are logged in, the login page for the others."""
    return redirect(url_for("ui.vehicles" if current_user.is_authenticated else "ui.login"))


@limit_login
def login() -> BaseResponse | str | tuple[str, int]:
    """Username and password; one generic message for every failure."""
    if current_user.is_authenticated:
        return redirect(url_for("ui.vehicles"))
    form = LoginForm(next=request.args.get("next", ""))
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template("login.html", form=form), status
    app = runtime()
    count_account_attempt(text(form.username))
    try:
        account = users.authenticate(app, app.hasher, text(form.username), text(form.password))
        user = CurrentUser.from_model(account)
    except InvalidCredentials as error:
        fail(form.password, error.message)
        return render_template("login.html", form=form), 401
    start_session(user)
    login_succeeded(text(form.username))
    flash(f"Welcome back, {user.first_name}.", "success")
    target = text(form.next)
    return see_other(target if is_safe_next(target) else url_for("ui.vehicles"))


@login_required
def logout() -> BaseResponse | str:
    """GET asks for confirmation; POST ends the session."""
    form = ActionForm()
    if not form.validate_on_submit():
        return render_template("logout.html", form=form)
    end_session(me())
    flash("You are logged out.", "info")
    return see_other(url_for("ui.login"))


@limit_registration
def register() -> BaseResponse | str | tuple[str, int]:
    """Create an account, then log it in."""
    app = runtime()
    choices = [SelectChoice(c.id, c.name, optgroup=c.region) for c in app.settings.region_map]
    form = RegisterForm(choices)
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template("register.html", form=form), status
    registration = users.Registration(
        city=text(form.city),
        first_name=text(form.first_name),
        last_name=text(form.last_name),
        email=text(form.email),
        username=text(form.username),
        password=text(form.password),
    )
    try:
        new = users.prepare_registration(app.hasher, app.settings.region_map, registration)
        user = CurrentUser.from_model(app.run(users.create_account, new))
    except UsernameTaken:
        fail(form.username, "That username is taken.")
        return render_template("register.html", form=form), 409
    except InvalidInput as error:
        fail(getattr(form, error.field), error.message)
        return render_template("register.html", form=form), 422
    start_session(user)
    flash(f"Welcome to MovR, {user.first_name}!", "success")
    return see_other(url_for("ui.vehicles"))
