"""`/metrics`: Prometheus text, read from the store at each scrape (see services.metrics).

Labels are transport codes and states only: no business unit, skill or phone number, so that an
anonymous scrape shows the traffic of the codes and nothing of any unit's lists or people. Where
even that is too much, `psms serve --metrics-token` (or PSMS_METRICS_TOKEN) makes the endpoint
ask for `Authorization: Bearer <token>`, which Prometheus sends with `authorization:` in its
scrape config.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeHistogramMetricFamily,
    GaugeMetricFamily,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector

from proactive_sms.interfaces.api.errors import PROBLEM_SCHEMA, Problem
from proactive_sms.services import metrics

router = APIRouter(tags=["health"])

# Receipts come in seconds from a healthy network and hours from a phone that is switched off.
LATENCY_BUCKETS_S = (0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 6 * 3600, 24 * 3600)


class StoreCollector(Collector):
    """Builds every family from one snapshot of the store."""

    def __init__(self, request: Request) -> None:
        self.request = request

    def collect(self) -> Iterator:
        state = self.request.app.state
        figures = metrics.snapshot(state.engine, state.clock.now())
        texts = GaugeMetricFamily("psms_texts", "Texts by transport code and state.",
                                  labels=["code", "state"])
        rate = GaugeMetricFamily(
            "psms_send_rate_per_s",
            f"Texts submitted to the carrier in the last "
            f"{metrics.RATE_WINDOW.total_seconds():.0f} s, per second, by transport code.",
            labels=["code"])
        depth = GaugeMetricFamily("psms_queue_depth",
                                  "Pending texts by transport code (those held until their "
                                  "calling window opens included).", labels=["code"])
        latency = GaugeHistogramMetricFamily(
            "psms_receipt_latency_seconds",
            f"Seconds from the carrier's acceptance to the delivery receipt, over the last "
            f"{metrics.LATENCY_SAMPLE} receipts of each transport code (skills running, paused "
            f"or finished within the hour).", labels=["code"])
        allowed = GaugeMetricFamily(
            "psms_code_rate_per_s",
            "What each transport code may send now, per second: its limit, or less while the "
            "carrier throttles it.", labels=["code"])
        limit = GaugeMetricFamily("psms_code_limit_per_s",
                                  "Each transport code's configured limit, per second.",
                                  labels=["code"])
        events = GaugeMetricFamily(
            "psms_code_throttle_events",
            "Throttle events (bursts of 0x58 answers) of each transport code since its worker "
            "started dispatching it.", labels=["code"])
        for code in figures:
            if code.pace is not None:
                allowed.add_metric([code.code], code.pace.rate_per_s)
                limit.add_metric([code.code], code.pace.limit_per_s)
                events.add_metric([code.code], code.pace.throttle_events)
            for name, count in code.texts_by_state.items():
                texts.add_metric([code.code, name], count)
            rate.add_metric([code.code], code.send_rate_per_s)
            depth.add_metric([code.code], code.queue_depth)
            latency.add_metric([code.code], _buckets(code.receipt_latencies_s),
                               sum(code.receipt_latencies_s))
        held = GaugeMetricFamily(
            "psms_early_receipts_held",
            "Delivery receipts held because they match no carrier id yet (they overtook their "
            "submit answer, or belong to a text whose answer never came); pruned after a set "
            "age.")
        held.add_metric([], metrics.held_receipts(state.engine))
        # Kept in the store by the dispatcher holding each code, so they survive its restarts
        # and the lease moving to another worker: real counters.
        failovers = CounterMetricFamily(
            "psms_failovers", "Times a transport code's texts moved from a connection of its "
            "route to a later one (its breaker opened).", labels=["code"])
        returns = CounterMetricFamily(
            "psms_failover_returns", "Times a transport code's texts came back to an earlier "
            "connection of its route (its probe was answered).", labels=["code"])
        for code, moved, came_back in metrics.failovers(state.engine):
            failovers.add_metric([code], moved)
            returns.add_metric([code], came_back)
        yield from (texts, rate, depth, latency, allowed, limit, events, held, failovers,
                    returns)


def _buckets(samples: list[float]) -> list[tuple[str, float]]:
    cumulative = [(str(float(bound)), float(sum(1 for s in samples if s <= bound)))
                  for bound in LATENCY_BUCKETS_S]
    return [*cumulative, ("+Inf", float(len(samples)))]


def _check_token(request: Request) -> None:
    token = request.app.state.metrics_token
    if not token:
        return
    given = request.headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        raise Problem(401, "unauthorized", "Unauthorized",
                      "this server's /metrics needs 'Authorization: Bearer <metrics token>'",
                      [{"field": "Authorization", "reason": "missing or wrong metrics token"}],
                      headers={"WWW-Authenticate": "Bearer"})


@router.get("/metrics", response_class=Response, responses={
    200: {"description": "Prometheus text format 0.0.4",
          "content": {CONTENT_TYPE_PLAIN_0_0_4: {"schema": {"type": "string"}}}},
    401: PROBLEM_SCHEMA})
async def prometheus_metrics(request: Request) -> Response:
    """Texts by code and state, send rate, queue depth and receipt latency per code."""
    _check_token(request)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(request))
    body = await run_in_threadpool(generate_latest, registry)
    return Response(body, media_type=CONTENT_TYPE_PLAIN_0_0_4)
