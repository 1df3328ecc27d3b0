"""One definition per record: what each field of a record dataclass is, beyond its type.

A record is declared once, in ``app.domain.models`` (or ``app.domain.webhooks``). Its
field order is the order of its public JSON view; ``field()`` says what else a layer must
know about a field: its key in the view (or that it is never shown), its description in
OpenAPI, and whether the stores keep it. From that one declaration come the JSON views
(``app.domain.views``), the OpenAPI response schemas (``app.api.schemas``), the SQLite
rows (``app.store.sqlite_records``) and the MongoDB documents (``app.store.mongo_records``).
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from typing import Any, dataclass_transform

# The field's name is its key in the public view (the default).
SAME_KEY = "="


def field(
    *,
    view: str | None = SAME_KEY,
    doc: str | None = None,
    stored: bool = True,
    omit_none: bool = False,
    default: Any = dataclasses.MISSING,
    default_factory: Any = dataclasses.MISSING,
    kw_only: bool = False,
    compare: bool = True,
    repr: bool = True,
) -> Any:
    """A dataclass field with what the other layers derive from it.

    ``view``: its key in the public view; None keeps it out (secrets, internal state); a
    dotted key (``"actor.id"``) nests it. ``doc``: its OpenAPI description. ``stored``:
    False for what the stores do not keep as such (joined in, or only in memory).
    ``omit_none``: left out of the view and the document rather than null when unset.
    """
    metadata = {"view": view, "doc": doc, "stored": stored, "omit_none": omit_none}
    return dataclasses.field(
        default=default, default_factory=default_factory, kw_only=kw_only, compare=compare, repr=repr, metadata=metadata
    )


@dataclass_transform(field_specifiers=(field, dataclasses.field))
def record[T](cls: type[T]) -> type[T]:
    """Declare a record: a slotted dataclass whose fields may say more with ``field()``."""
    return dataclasses.dataclass(slots=True)(cls)


class Kind(enum.Enum):
    """How a value travels through JSON columns, BSON documents and views."""

    PLAIN = "plain"  # str, or anything stored and shown as it is
    INT = "int"
    BOOL = "bool"
    ENUM = "enum"  # a StrEnum: stored and shown as its value
    LIST = "list"  # a list of str or int: a JSON array in SQLite, an array in BSON
    DICT = "dict"  # free-form data: JSON text in SQLite, a subdocument in BSON


@dataclasses.dataclass(frozen=True, slots=True)
class FieldShape:
    name: str
    annotation: Any  # the resolved type, e.g. ``list[str] | None``
    kind: Kind
    nullable: bool
    item: type | None  # the element type of a list
    enum: type[enum.Enum] | None
    key: str | None  # the key in the public view; None: never shown
    doc: str | None
    stored: bool
    omit_none: bool
    required: bool  # no default: a stored document must have it


_shapes: dict[type, tuple[FieldShape, ...]] = {}


def shape_of(cls: type) -> tuple[FieldShape, ...]:
    """The fields of a record dataclass, in declaration (and view) order."""
    shape = _shapes.get(cls)
    if shape is None:
        hints = typing.get_type_hints(cls)
        shape = _shapes[cls] = tuple(_field_shape(item, hints[item.name]) for item in dataclasses.fields(cls))
    return shape


def _field_shape(item: dataclasses.Field[Any], annotation: Any) -> FieldShape:
    base, nullable = _strip_none(annotation)
    origin = typing.get_origin(base) or base
    item_type = None
    if origin is list:
        kind, item_type = Kind.LIST, typing.get_args(base)[0]
    elif origin is dict:
        kind = Kind.DICT
    elif isinstance(origin, type) and issubclass(origin, enum.Enum):
        kind = Kind.ENUM
    elif origin is bool:
        kind = Kind.BOOL
    elif origin is int:
        kind = Kind.INT
    else:
        kind = Kind.PLAIN
    meta = item.metadata
    key = meta.get("view", SAME_KEY)
    return FieldShape(
        name=item.name,
        annotation=annotation,
        kind=kind,
        nullable=nullable,
        item=item_type,
        enum=origin if kind is Kind.ENUM else None,
        key=item.name if key == SAME_KEY else key,
        doc=meta.get("doc"),
        stored=meta.get("stored", True),
        omit_none=meta.get("omit_none", False),
        required=item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING,
    )


def _strip_none(annotation: Any) -> tuple[Any, bool]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False
