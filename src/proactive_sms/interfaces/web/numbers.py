"""/numbers/history: a number's history in the console ("why was this number (not) texted?"),
the same events as `psms why` and GET /v1/numbers/{number}/history (services.number_history).

Opened by supervisors and admins (roles nest); reached from a skill's report (narrowed to the
skill) and from a number found on the DNC page. Who sees full numbers: domain/number_visibility.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from proactive_sms.domain.number_visibility import Reader
from proactive_sms.interfaces.web import forms
from proactive_sms.interfaces.web.auth import CurrentBu, SupervisorUser
from proactive_sms.interfaces.web.deps import EngineDep
from proactive_sms.interfaces.web.rendering import render
from proactive_sms.services import number_history
from proactive_sms.services.administration import InvalidRequest
from proactive_sms.store.errors import NotFound

router = APIRouter()


@router.get("/numbers/history")
def history_page(request: Request, user: SupervisorUser, bu: CurrentBu, engine: EngineDep,
                 number: str = "", skill: str = "") -> Response:
    number, skill = number.strip()[:40], skill.strip()[:200]
    history, errors = None, {}
    if number:
        try:
            history = number_history.number_history(engine, bu, number, Reader(user.role),
                                                    skill=skill or None)
        except (InvalidRequest, NotFound) as exc:
            errors = forms.errors_of(exc, "number")
    return render(request, "numbers/history.html", history=history, errors=errors,
                  values={"number": number, "skill": skill},
                  status_code=422 if errors else 200)
