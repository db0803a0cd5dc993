"""/skills/{name}/report: a skill's report page (the funnel records -> decided -> sent ->
delivered, skips by reason, opt-outs and replies, throughput against the limit, time to finish)
and its CSV export, the same CSV the API's `?format=csv` answers (services.report_export)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from proactive_sms.interfaces.web.auth import CurrentBu, SupervisorUser
from proactive_sms.interfaces.web.deps import ClockDep, EngineDep
from proactive_sms.interfaces.web.rendering import render
from proactive_sms.services import report_export, skill_funnel

router = APIRouter()


def _width(part: int, whole: int) -> str:
    """A bar's width class (w0 … w100, by fives): the CSP allows no inline style."""
    if whole <= 0 or part <= 0:
        return "w0"
    return f"w{max(5, round(20 * part / whole) * 5)}"


def _duration(took: timedelta) -> str:
    """A time to finish as people say it: 2 h 05 min, 4 min 10 s, 12 s."""
    seconds = int(took.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


@router.get("/skills/{name}/report")
def report_page(request: Request, name: str, user: SupervisorUser, bu: CurrentBu,
                engine: EngineDep, clock: ClockDep) -> Response:
    funnel = skill_funnel.skill_funnel(engine, bu, name, clock)  # NotFound: the 404 page
    return render(request, "skill_reports/report.html", funnel=funnel, report=funnel.report,
                  width=_width, duration=_duration, quoted=quote(name, safe=""))


@router.get("/skills/{name}/report.csv")
def report_csv(name: str, user: SupervisorUser, bu: CurrentBu, engine: EngineDep,
               clock: ClockDep) -> Response:
    funnel = skill_funnel.skill_funnel(engine, bu, name, clock)
    filename = f"skill-{name}-report.csv"
    return Response(report_export.report_csv(funnel.report), media_type=report_export.MEDIA_TYPE,
                    headers={"Content-Disposition":
                             f"attachment; filename*=UTF-8''{quote(filename, safe='')}"})
