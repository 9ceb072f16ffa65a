"""Users of a city, your profile, deleting your account."""

from __future__ import annotations

import uuid

from flask import abort, flash, render_template, url_for
from werkzeug.wrappers import Response as BaseResponse

from movr.services import users, vehicles
from movr.services.callers import UnknownCaller
from movr.services.errors import Forbidden
from movr.web.auth import end_session, logged_out, login_required, session_caller, session_required
from movr.web.runtime import runtime
from movr.web.ui.forms import ActionForm
from movr.web.ui.helpers import current_city, me, page_request, see_other


@login_required
def users_page() -> str:
    """People of the current city: names and whether they own vehicles, nothing private."""
    city_id = current_city()
    page = runtime().run(users.list_city_users, city_id, page_request())
    return render_template(
        "users.html", page=page, city=runtime().settings.region_map.city(city_id)
    )


@login_required
def profile(user_id: uuid.UUID) -> str:
    """Your own profile: name, home city, vehicles, delete button. Nobody else's."""
    if user_id != me().id:
        abort(403)
    owned = runtime().run(vehicles.list_owned_vehicles, user_id, page_request())
    home = runtime().settings.region_map.city(me().city)
    return render_template("profile.html", owned=owned, home=home, action_form=ActionForm())


# Its one statement checks the session itself (and that `user_id` is the session's account).
@session_required
def remove_user(user_id: uuid.UUID) -> BaseResponse:
    """Delete your own account: personal data erased, rides kept anonymously."""
    caller = session_caller()
    assert caller is not None  # noqa: S101 -- session_required
    try:
        runtime().run(users.delete_account, caller, user_id)
    except UnknownCaller:  # the session was revoked or expired, or the account deleted
        return logged_out()
    except Forbidden:
        abort(403)
    end_session(None, revoked=True)  # its tokens are revoked already: empty the cookie
    flash("Your account was deleted. Your past rides are kept without your name.", "info")
    return see_other(url_for("ui.login"))
