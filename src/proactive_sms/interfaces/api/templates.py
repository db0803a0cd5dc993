"""`/v1/templates`: saved message bodies, and what a body renders to for a record."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from proactive_sms.domain import template
from proactive_sms.interfaces.api import idempotency
from proactive_sms.interfaces.api.auth import CurrentBu
from proactive_sms.interfaces.api.concurrency import expected_version, set_etag
from proactive_sms.interfaces.api.deps import ClockDep, EngineDep
from proactive_sms.interfaces.api.idempotency import Idempotent
from proactive_sms.interfaces.api.pagination import Paged, PageParams, paged
from proactive_sms.interfaces.api.patching import PatchIn, RemovalOut, changes_of
from proactive_sms.interfaces.api.request_bodies import RequestBody
from proactive_sms.services import administration, audit, listing, previews, setup_changes
from proactive_sms.store.templates import StoredTemplate

router = APIRouter(prefix="/templates", tags=["templates"])

Direction = Literal["ltr", "rtl", "auto"]
BidiMarks = Literal["auto", "off"]
_MARKS_HELP = ("In right-to-left text, fence merged values with Unicode isolates only where "
               "they would otherwise be shown in another order (auto), or never (off).")


class TemplateIn(RequestBody):
    body: str = Field(min_length=1, description="Text with {FieldName} variables.")
    direction: Direction = "auto"
    smart_encoding: bool = Field(False, description="Replace look-alike characters to stay "
                                                    "in GSM-7.")
    bidi_marks: BidiMarks = Field("auto", description=_MARKS_HELP)
    calling_list: str | None = Field(None, description="Check the variables against this "
                                                       "list's fields before saving.")


class TemplateOut(BaseModel):
    name: str
    body: str
    direction: str
    smart_encoding: bool
    bidi_marks: str = Field("auto", description=_MARKS_HELP)
    version: int = Field(1, description="Raised by every change; the ETag of GET is this.")
    warnings: list[str] = Field(default_factory=list, description=(
        "Invisible characters in the body that are allowed but worth a look (zero-width "
        "joiners, direction marks), each with its position."))

    @classmethod
    def of(cls, stored: StoredTemplate) -> TemplateOut:
        return cls(name=stored.name, body=stored.body, direction=stored.direction,
                   smart_encoding=stored.smart_encoding, bidi_marks=stored.bidi_marks,
                   version=stored.version,
                   warnings=[str(w) for w in template.warnings(stored.body)])


class PreviewIn(RequestBody):
    calling_list: str | None = Field(None, description="Merge a record of this list.")
    external_id: str | None = Field(None, description="That record (default: the first).")
    values: dict[str, str] = Field(default_factory=dict, description="Values to merge on top.")


class PreviewOut(BaseModel):
    body: str
    rendered: str | None = Field(description="What the recipient reads (null: cannot render).")
    direction: str
    encoding: str | None
    segments: int | None
    units: int | None
    unicode_chars: list[str] = Field(description="Characters that force UCS-2.")
    remaining_in_segment: int | None
    problems: list[str]
    sample: dict[str, str]
    warnings: list[str] = Field(description="Invisible characters worth a look.")
    bidi_mark_units: int = Field(0, description="UCS-2 units the direction marks around "
                                                "merged values add (right-to-left text).")
    bidi_mark_segments: int = Field(0, description="Segments those marks add: above 0, the "
                                                   "marks make the text cost more.")


@router.get("")
def list_templates(bu: CurrentBu, engine: EngineDep, page: PageParams) -> Paged[TemplateOut]:
    """The BU's templates, a page at a time."""
    return paged(listing.templates_page(engine, bu, page), TemplateOut.of)


@router.put("/{name}", responses=idempotency.responses())
def save_template(name: str, body: TemplateIn, bu: CurrentBu, engine: EngineDep,
                  clock: ClockDep, guard: Idempotent) -> TemplateOut:
    """Create the template, or replace its body (the syntax, and the fields when a list is
    named, are checked first). With an Idempotency-Key, a retried save cannot undo a change
    made since."""
    return guard.run(lambda: TemplateOut.of(administration.save_template(
        engine, bu, clock, name, body.body, body.direction, body.smart_encoding,
        body.calling_list, body.bidi_marks)))


class TemplatePatch(PatchIn):
    body: str | None = Field(None, min_length=1, description="Text with {FieldName} variables.")
    direction: Direction | None = None
    smart_encoding: bool | None = None
    bidi_marks: BidiMarks | None = Field(None, description=_MARKS_HELP)
    calling_list: str | None = Field(None, description="Check the variables against this "
                                                       "list's fields first (not stored).")


@router.get("/{name}")
def get_template(name: str, bu: CurrentBu, engine: EngineDep,
                 response: Response) -> TemplateOut:
    """One template; the ETag is its version, for If-Match on a change."""
    found = administration.find_template(engine, bu, name)
    set_etag(response, found.version)
    return TemplateOut.of(found)


@router.patch("/{name}")
def change_template(name: str, body: TemplatePatch, bu: CurrentBu, engine: EngineDep,
                    clock: ClockDep, request: Request, response: Response) -> TemplateOut:
    """Change the fields sent (the body's syntax is checked, and its fields when a list is
    named). With If-Match, only if nobody changed it since that read (412 otherwise)."""
    changes = changes_of(body)
    found = setup_changes.change_template(engine, bu, clock, name, changes,
                                          expected_version(request), actor=audit.API_USERNAME)
    set_etag(response, found.version)
    return TemplateOut.of(found)


@router.delete("/{name}")
def remove_template(name: str, bu: CurrentBu, engine: EngineDep, clock: ClockDep,
                    request: Request) -> RemovalOut:
    """Remove the template: 409 naming the skills (or cadences) not yet over that use it;
    archived when past skills name it (their reports still show it)."""
    removal = setup_changes.remove_template(engine, bu, clock, name, expected_version(request),
                                            actor=audit.API_USERNAME)
    return RemovalOut(**removal.as_dict())


@router.post("/{name}/preview")
def preview_template(name: str, body: PreviewIn, bu: CurrentBu,
                     engine: EngineDep) -> PreviewOut:
    """The text a record would get: rendered, encoding, segments, offending characters."""
    stored = administration.find_template(engine, bu, name)
    result = previews.preview(engine, bu, stored.body, stored.direction, stored.smart_encoding,
                              body.calling_list, body.external_id, body.values,
                              bidi_marks=stored.bidi_marks)
    return PreviewOut(**result.as_dict())
