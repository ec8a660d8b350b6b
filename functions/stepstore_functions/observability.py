"""Powertools Logger, Metrics and Tracer as every StepStore function sets them up."""

from __future__ import annotations

from collections.abc import Generator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

NAMESPACE = "StepStore"


class _Segment(BaseSegment):
    def close(self, end_time: int | None = None) -> None: ...
    def add_subsegment(self, subsegment: Any) -> None: ...
    def remove_subsegment(self, subsegment: Any) -> None: ...
    def put_annotation(self, key: str, value: str | float | bool) -> None: ...
    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None: ...
    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None: ...


class _NoTracing(BaseProvider):
    """Stands in for X-Ray where tracing is off. The X-Ray SDK builds two botocore clients when it is
    imported (about 90 ms of cold start), which a function that traces nothing should not pay."""

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Generator[BaseSegment, None, None]:
        yield _Segment()

    @asynccontextmanager
    async def in_subsegment_async(self, name: str | None = None, **kwargs: Any) -> Any:
        yield _Segment()

    def put_annotation(self, key: str, value: str | float | bool) -> None: ...
    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None: ...
    def patch(self, modules: Any) -> None: ...
    def patch_all(self) -> None: ...


def make_tracer(service: str) -> Tracer:
    """X-Ray tracing in Lambda; a no-op provider wherever Powertools would disable tracing anyway
    (outside Lambda, or with POWERTOOLS_TRACE_DISABLED)."""
    if Tracer._is_tracer_disabled():
        return Tracer(service=service, disabled=True, provider=_NoTracing())
    return Tracer(service=service)


def observability(service: str) -> tuple[Logger, Metrics, Tracer]:
    return Logger(service=service), Metrics(namespace=NAMESPACE, service=service), make_tracer(service)
