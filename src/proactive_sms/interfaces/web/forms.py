"""Showing errors inline in forms: a form is re-rendered with `errors = {"field": "reason"}`,
with the same fields and reasons the API answers (the mapping of api/errors.py), and the
values the person typed.

    try:
        skills.create(...)
    except forms.FORM_ERRORS as exc:
        return render(request, "skills/new.html", status_code=422,
                      errors=forms.errors_of(exc), values=dict(form))

In the template, `{% from "_macros.html" import field %}` and `{{ field("name", "Name",
values, errors) }}` draws the label, the input and the error in red under it. An error with no
field is shown above the form under the key "" (`errors[""]`).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy.exc import DataError

from proactive_sms.domain.template import TemplateError
from proactive_sms.interfaces.api.errors import Problem, problem_of
from proactive_sms.services.administration import InvalidRequest
from proactive_sms.services.importing import ImportRefused
from proactive_sms.services.launching import LaunchError
from proactive_sms.services.lifecycle import LifecycleError
from proactive_sms.store.errors import AlreadyExists, NotFound

# What a form handler catches and shows inline (anything else is a defect, or a 404 to let by).
FORM_ERRORS: tuple[type[Exception], ...] = (InvalidRequest, TemplateError, AlreadyExists,
                                            ImportRefused, LaunchError, LifecycleError,
                                            DataError, NotFound)


def errors_of(exc: Exception, field: str | None = None) -> dict[str, str]:
    """{field: reason} for a service's error. An exception that knows its field (`.field` and
    `.reason`) names it; otherwise the API's mapping does; `field` names the form field a
    field-less error is about (as `api.errors.blame` does)."""
    own_field = getattr(exc, "field", None)
    own_reason = getattr(exc, "reason", None)
    if own_field and own_reason:
        return {own_field: str(own_reason)}
    problem = exc if isinstance(exc, Problem) else problem_of(exc)
    found: dict[str, str] = {}
    for error in problem.errors or [{"field": None, "reason": problem.detail}]:
        key = error.get("field") or field or ""
        found.setdefault(key, str(error.get("reason") or problem.detail))
    return found


async def values_of(request: Request) -> dict[str, Any]:
    """The submitted form's text fields (to fill the form again), without the CSRF token."""
    form = await request.form()
    return {key: value for key, value in form.items()
            if isinstance(value, str) and key != "csrf_token"}
