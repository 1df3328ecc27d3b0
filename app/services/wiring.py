"""How a service is declared: a dataclass whose fields are its collaborators, taken in the
order ``app/services/__init__.py`` passes them. What a service makes for itself is a
``field(init=False)``, set by a default or in ``__post_init__``; what it only reads while
being built (the settings, mostly) is an ``InitVar``."""

from __future__ import annotations

import dataclasses
from typing import dataclass_transform


@dataclass_transform(eq_default=False, field_specifiers=(dataclasses.field,))
def service[T](cls: type[T]) -> type[T]:
    # eq=False: a service is one object of the runtime, compared (and hashed) by identity.
    # slots: an attribute a method sets without declaring it fails at once.
    return dataclasses.dataclass(eq=False, slots=True)(cls)
