"""Records written out by hand: equality, hash, repr and pickling from ``_fields``, as a
dataclass's would be. A dataclass generates and compiles its methods when its module is
imported, which made a large part of every ``layerwise check``'s start-up; these two bases do
the same work once, for every record of the package. A base module: it imports nothing of
layerwise, and any layer may use it.

A subclass lists its fields in order in ``_fields`` and sets them in its own ``__init__`` (a
:class:`Frozen` one with ``self._init(value, ...)``, every field in ``_fields`` order).
"""

from __future__ import annotations


class Record:
    """A mutable record compared by value (unhashable, as a dataclass with ``eq=True``)."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()

    def _values(self) -> tuple:
        return tuple(getattr(self, n) for n in self._fields)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__qualname__}(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in self._fields) + ")"

    def as_dict(self) -> dict[str, object]:
        """The fields and their values (records inside stay records)."""
        return {n: getattr(self, n) for n in self._fields}


class Frozen(Record):
    """An immutable, hashable record (as a frozen dataclass)."""

    __slots__ = ()

    def _init(self, *values: object) -> None:
        """Set every field, in ``_fields`` order: what a frozen record's ``__init__`` calls
        (``self.x = ...`` raises)."""
        for name, value in zip(self._fields, values, strict=True):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")

    def __hash__(self) -> int:
        return hash(self._values())

    def __reduce__(self):
        return (type(self), self._values())


def replace(obj: Record, /, **changes: object) -> Record:
    """A copy of the record ``obj`` with ``changes`` (as :func:`dataclasses.replace`): its class
    is called with every field by name, so its ``__init__`` (and checks) run again."""
    values = obj.as_dict()
    unknown = set(changes) - set(values)
    if unknown:
        raise TypeError(f"{type(obj).__qualname__} has no field {sorted(unknown)[0]!r}")
    values.update(changes)
    return type(obj)(**values)
