"""Records read for display: a model's columns as the driver gave them, each converted to its
Python value when first read."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Generic, TypeVar

from tortoise.models import Model
from tortoise.queryset import QuerySet

M = TypeVar("M", bound=Model)


def _as_is(value: Any) -> Any:
    return value


class Row(Generic[M]):
    """One record of `model`, read only: its columns convert on first access, then are plain
    attributes.

    Building Tortoise model objects converts every column of every row up front (on SQLite
    each datetime is parsed by `iso8601`, each UUID built from text): about 180 objects and
    360 datetimes for a page of 100 contacts, most of them never read by the page. A row
    holds the driver's record and converts a column when something reads it, with the
    model's own converter, so the value is the one the model object would hold. It cannot be
    saved: services that change a record read model objects.
    """

    model: ClassVar[type[Model]]

    def __init__(
        self, raw: Mapping[str, Any], converters: Mapping[str, tuple[str, Callable[[Any], Any]]]
    ) -> None:
        self._raw = raw
        self._converters = converters

    def __getattr__(self, name: str) -> Any:
        # Only called for attributes not yet converted (then set on the instance).
        converter = self._converters.get(name)
        if converter is None:  # e.g. `__await__`, which graphql-core looks for on every value
            raise AttributeError(name)
        column, convert = converter
        value = convert(self._raw[column])
        self.__dict__[name] = value
        return value

    @property
    def pk(self) -> Any:
        return self.id

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._raw[self.model._meta.db_pk_column]}>"


def _converters(model: type[Model]) -> dict[str, tuple[str, Callable[[Any], Any]]]:
    """Attribute -> (column, converter), as `Model._init_from_db` converts them on the
    connection the model is bound to (native, the field's type, or its `to_python_value`)."""
    meta = model._meta
    found: dict[str, tuple[str, Callable[[Any], Any]]] = {}
    for column, attribute, _field in meta.db_native_fields:
        found[attribute] = (column, _as_is)
    for column, attribute, field in meta.db_default_fields:
        found[attribute] = (column, _not_none(field.field_type))
    for column, attribute, field in meta.db_complex_fields:
        found[attribute] = (column, field.to_python_value)
    return found


def _not_none(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def converted(value: Any) -> Any:
        return None if value is None else convert(value)

    return converted


R = TypeVar("R", bound="Row[Any]")


async def read_rows(query: QuerySet[Any], row_type: type[R]) -> list[R]:
    """The records `query` selects, as rows of `row_type` (its model's columns and any
    annotations, e.g. a custom field's sort value, which are read as the driver gave them)."""
    query._choose_db_if_not_chosen()
    query._make_query()
    sql, params = query.query.get_parameterized_sql()
    _, records = await query._db.execute_query(sql, params)
    converters = _converters(row_type.model)
    for annotation in query._annotations:
        converters.setdefault(annotation, (annotation, _as_is))
    return [row_type(record, converters) for record in records]
