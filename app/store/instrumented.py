"""Store timing for the operator: every store call observed under its method name."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from app.observability import metrics
from app.store.base import StoreUnavailable


class InstrumentedStore:
    """Wraps any Store so that every call is timed under its method name; the adapters
    stay free of metrics code and no method can be forgotten."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self._wrapped: dict[str, Callable[..., Any]] = {}

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._store, name)
        if name.startswith("_") or not callable(attribute):
            return attribute
        if (wrapped := self._wrapped.get(name)) is None:
            wrapped = self._wrapped[name] = self._timed(name, attribute)
        return wrapped

    @staticmethod
    def _timed(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        histogram = metrics.STORE_LATENCY.labels(name)

        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await method(*args, **kwargs)
            except StoreUnavailable:
                metrics.STORE_ERRORS.labels(name).inc()
                raise
            finally:
                histogram.observe(time.perf_counter() - started)

        return timed
