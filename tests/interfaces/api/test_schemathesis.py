"""Schemathesis over every operation the app publishes: generated requests, valid and invalid,
with a real key and seeded data; no answer is a 5xx and every answer matches the OpenAPI (status
code documented, media type, body schema).

The operations come from the app's own /openapi.json, so routes added later are covered without
touching this file. Path parameters and body references are sometimes swapped for the names of the
seeded registration, list, template, skills and campaign, so that requests also reach the
resources themselves and not only their 404s. Deterministic (`derandomize`) and bounded by
`max_examples` per operation.
"""

from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance
from sqlalchemy import create_engine

from proactive_sms.carriers.base import InboundText
from proactive_sms.interfaces.api.app import create_app
from proactive_sms.services import administration, api_keys, cadences, launching, webhooks
from proactive_sms.services.inbound import InboundService
from tests.factories import import_people, registration
from tests.interfaces.api.worlds import POSSIBLE_OPT_OUT
from tests.services.dispatch_world import DaytimeClock

EXAMPLES_PER_OPERATION = 25

# The names the seeded data has, by the first path segment after /v1 (the resource).
SEEDED_PATHS = {
    "registrations": [{"code": "55501"}],
    "calling-lists": [{"name": "people"}],
    "templates": [{"name": "tip"}],
    "skills": [{"name": "draft"}, {"name": "running"},
               {"name": "sales", "external_id": "C000001"}],  # an agent skill, a record
    "campaigns": [{"name": "weekly"}],
    "dnc": [{"number": "+12125550100"}, {"name": "default"}],
    "messages": [{"message_id": 1}],
    "inbound-texts": [{"inbound_id": 1}],
    "reviews": [{"inbound_id": 2}],
}
# Fields of request bodies that name one of the seeded resources.
SEEDED_REFERENCES = {"registration": "55501", "calling_list": "people", "template": "tip",
                     "skill": "running", "campaign": "weekly"}


def _seed(engine, clock, tmp_path) -> dict[str, str]:
    bu = administration.init(engine, clock, "acme", "sales", "US")
    import_people(engine, bu, clock, tmp_path, 5)
    registration(engine, bu, clock)
    administration.save_template(engine, bu, clock, "tip", "Hi {FirstName}, new tip.", "auto",
                                 False, "people")
    administration.create_campaign(engine, bu, clock, "weekly")
    administration.create_skill(engine, bu, clock, name="draft", registration="55501",
                                calling_list="people", template_name="tip")
    running = administration.create_skill(engine, bu, clock, name="running",
                                          registration="55501", calling_list="people",
                                          campaign="weekly")
    launching.start_skill(engine, running.id, clock, message_text="A bonus shift is open.")
    administration.dnc_add(engine, bu, clock, ["+12125550100"], None, source="manual")
    # An agent skill with a cadence, started: the dialer's endpoints reach a real one.
    sales = administration.create_skill(engine, bu, clock, name="sales", registration="55501",
                                        calling_list="people", kind="agent")
    cadences.define(engine, bu, clock, "sales", {"steps": [
        {"channel": "voice", "max_attempts": 2},
        {"channel": "sms", "after": ["answering_machine"], "template": "tip"}]})
    launching.start_skill(engine, sales.id, clock)
    InboundService(engine, clock).handle_batch([  # a HELP, and a possible opt-out to review
        InboundText("12125550101", "55501", "HELP", "in-1"),
        InboundText("12125550102", "55501", POSSIBLE_OPT_OUT, "in-2")])
    # A webhook to a closed local port (each attempt fails at once) and one event of its log.
    webhooks.set_endpoint(engine, bu, clock, "http://127.0.0.1:9/psms")
    SEEDED_PATHS["webhook"] = [{"event_id": webhooks.queue_ping(engine, bu, clock).public_id}]
    return {"Authorization": "Bearer " + api_keys.create(engine, bu, clock, "fuzz").secret}


@pytest.fixture
def api(engine, tmp_path):
    clock = DaytimeClock()
    headers = _seed(engine, clock, tmp_path)
    current.app = create_app(engine, clock)
    return headers


class CurrentApp:
    """The ASGI app schemathesis talks to: each test points it at an app over a freshly seeded
    store (schemathesis keeps the app it loaded the schema from, for its own probes too)."""

    def __init__(self) -> None:
        self.app = create_app(create_engine("sqlite://"))  # enough to publish the OpenAPI

    async def __call__(self, scope, receive, send) -> None:
        await self.app(scope, receive, send)


current = CurrentApp()
schema = schemathesis.openapi.from_asgi("/openapi.json", current)


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    if not path_parameters:
        return st.just(path_parameters)
    parts = context.operation.path.split("/")  # "/v1/skills/{name}" -> the resource, skills
    resource = parts[2] if len(parts) > 2 and parts[1] == "v1" else ""
    seeded = [{**path_parameters, **names} for names in SEEDED_PATHS.get(resource, [])
              if names.keys() <= path_parameters.keys()]
    return st.sampled_from([path_parameters, *seeded])


@schema.hook
def flatmap_body(context, body):
    if not isinstance(body, dict) or not body.keys() & SEEDED_REFERENCES.keys():
        return st.just(body)
    pointed = {**body, **{k: v for k, v in SEEDED_REFERENCES.items() if k in body}}
    return st.sampled_from([body, pointed])


@schema.parametrize()
@hypothesis.settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, database=None,
                     deadline=None, suppress_health_check=list(hypothesis.HealthCheck))
def test_every_operation_answers_within_its_schema_and_never_with_a_5xx(case, api):
    case.call_and_validate(headers=api, excluded_checks=[
        # This API answers 422 to schema-valid values its rules refuse (a code that is not a
        # phone number, an empty file, a 'default' zone policy without a zone): what the
        # schema cannot say is checked by the services, and named in the problem.
        positive_data_acceptance,
        # Unknown query parameters and headers are ignored, as HTTP APIs usually do.
        negative_data_rejection,
    ])
