"""The one JSON encoder: compact, UTF-8, dataclass-aware."""

from __future__ import annotations

import dataclasses
import json
from enum import Enum
from typing import Any


def _default(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_default)


def dumps(value: Any) -> str:
    return _encoder.encode(value)


def loads(text: str | bytes) -> Any:
    return json.loads(text)
