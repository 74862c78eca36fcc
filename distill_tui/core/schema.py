"""Typed sections for `distill.toml`, checked when made and on every
assignment: strict TOML types (`true` is not 1, 1e23 is not an integer, nan
and inf are refused), bounds, fixed choices and no unknown keys.

This was pydantic. Importing pydantic and building the models cost about
0.16 s before the first screen (more than importing Textual's app module), for
a dozen flat sections; the few rules they need are below, on the standard
library's dataclasses. The messages keep pydantic's wording, which users and
the README already quote ("Input should be greater than or equal to 1").

A section is a dataclass with keyword-only fields; a bound or a check goes in
`Annotated[...]`:

    class Teacher(Section):
        max_tokens: Annotated[int, Range(ge=1)] = 1024
        provider: Literal["anthropic", "openai"] = "anthropic"
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Literal, Self, Union, dataclass_transform

Loc = tuple[str | int, ...]


@dataclasses.dataclass(frozen=True)
class Problem:
    """One thing wrong: where (`loc`, keys from the top), what, and the bound
    it broke as ("ge", 1) when it was a bound."""

    loc: Loc
    msg: str
    bound: tuple[str, float] | None = None

    @property
    def where(self) -> str:
        return ".".join(str(p) for p in self.loc) or "(top level)"


class Invalid(ValueError):
    """A value a section refuses; `problems` lists every one found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.where}: {p.msg}" for p in problems))

    @property
    def first(self) -> Problem:
        return self.problems[0]


@dataclasses.dataclass(frozen=True)
class Range:
    """Bounds of a number, as pydantic's Field(ge=, gt=, le=, lt=)."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None

    def check(self, value: float, loc: Loc) -> None:
        for kind, words, ok in (
            ("ge", "greater than or equal to", lambda v, b: v >= b),
            ("gt", "greater than", lambda v, b: v > b),
            ("le", "less than or equal to", lambda v, b: v <= b),
            ("lt", "less than", lambda v, b: v < b),
        ):
            bound = getattr(self, kind)
            if bound is not None and not ok(value, bound):
                raise Invalid([Problem(loc, f"Input should be {words} {bound}", (kind, bound))])


def _fail(loc: Loc, msg: str) -> Invalid:
    return Invalid([Problem(loc, msg)])


def _either(choices: tuple[Any, ...]) -> str:
    shown = [repr(c) for c in choices]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"


def check(tp: Any, value: Any, loc: Loc) -> Any:
    """`value` as the annotation `tp` takes it (an int for a float field
    becomes a float, a table becomes its section); raises Invalid."""
    origin = typing.get_origin(tp)
    if origin is Annotated:
        base, *extras = typing.get_args(tp)
        value = check(base, value, loc)
        for extra in extras:
            if value is None:
                break
            if isinstance(extra, Range):
                extra.check(value, loc)
            elif callable(extra):
                try:
                    value = extra(value)
                except ValueError as e:
                    raise _fail(loc, str(e)) from None
        return value
    if origin in (Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return check(inner, value, loc)
    if origin is Literal:
        choices = typing.get_args(tp)
        if any(value == c and type(value) is type(c) for c in choices):
            return value
        raise _fail(loc, f"Input should be {_either(choices)}")
    if origin is list:
        if not isinstance(value, list):
            raise _fail(loc, "Input should be a valid list")
        (item,) = typing.get_args(tp)
        return _each(list(enumerate(value)), lambda i, v: check(item, v, (*loc, i)), list)
    if origin is dict:
        if not isinstance(value, dict):
            raise _fail(loc, "Input should be a valid dictionary")
        key_tp, item = typing.get_args(tp)
        return _each(
            list(value.items()),
            lambda k, v: (check(key_tp, k, (*loc, k)), check(item, v, (*loc, k))),
            dict,
        )
    if isinstance(tp, type) and issubclass(tp, Section):
        if isinstance(value, tp):
            return value
        if isinstance(value, dict):
            return tp.parse(value, loc)
        raise _fail(loc, f"Input should be a valid dictionary or instance of {tp.__name__}")
    return _scalar(tp, value, loc)


def _each(items: list[tuple[Any, Any]], one: Callable[[Any, Any], Any], make: type) -> Any:
    """Check every item, gathering all the problems before raising."""
    out, problems = [], []
    for k, v in items:
        try:
            out.append(one(k, v))
        except Invalid as e:
            problems.extend(e.problems)
    if problems:
        raise Invalid(problems)
    return make(out)


def _scalar(tp: Any, value: Any, loc: Loc) -> Any:
    if tp is bool:
        if type(value) is bool:
            return value
        raise _fail(loc, "Input should be a valid boolean")
    if tp is int:
        if type(value) is int:
            return value
        raise _fail(loc, "Input should be a valid integer")
    if tp is float:
        if type(value) not in (int, float):
            raise _fail(loc, "Input should be a valid number")
        if not math.isfinite(value):
            raise _fail(loc, "Input should be a finite number")
        return float(value)
    if tp is str:
        if type(value) is str:
            return value
        raise _fail(loc, "Input should be a valid string")
    raise TypeError(f"schema: no rule for {tp!r} at {loc}")  # a programming error


@dataclass_transform(kw_only_default=True, field_specifiers=(dataclasses.field,))
class Section:
    """A table of `distill.toml`. Subclasses become keyword-only dataclasses
    whose fields are checked when made, when assigned and when parsed."""

    _types: ClassVar[dict[str, Any]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        dataclasses.dataclass(kw_only=True)(cls)
        cls._types = {}  # filled on first use: later sections may be named in hints

    @classmethod
    def field_types(cls) -> dict[str, Any]:
        if not cls._types:
            hints = typing.get_type_hints(cls, include_extras=True)
            cls._types = {f.name: hints[f.name] for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        return cls._types

    @classmethod
    def field_names(cls) -> list[str]:
        return list(cls.field_types())

    def __setattr__(self, name: str, value: Any) -> None:
        types_ = self.field_types()
        if name not in types_:
            raise AttributeError(f"{type(self).__name__} has no setting {name!r}")
        object.__setattr__(self, name, check(types_[name], value, (name,)))

    @classmethod
    def parse(cls, data: dict[str, Any], loc: Loc = ()) -> Self:
        """A section from a TOML table; Invalid lists every problem, with
        its keys from `loc` down."""
        types_ = cls.field_types()
        problems = [
            Problem((*loc, k), "Extra inputs are not permitted") for k in data if k not in types_
        ]
        values = {}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            if f.name not in data:
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                    problems.append(Problem((*loc, f.name), "Field required"))
                continue
            try:
                values[f.name] = check(types_[f.name], data[f.name], (*loc, f.name))
            except Invalid as e:
                problems.extend(e.problems)
        if problems:
            raise Invalid(problems)
        return cls(**values)

    def to_dict(self, *, exclude_none: bool = False) -> dict[str, Any]:
        """The section as plain TOML-ready values (copies, not views)."""
        return {
            name: _plain(getattr(self, name), exclude_none)
            for name in self.field_types()
            if not (exclude_none and getattr(self, name) is None)
        }

    def replace(self, **update: Any) -> Self:
        """A copy with `update` applied, checked like an assignment."""
        return dataclasses.replace(self, **update)  # type: ignore[type-var]


def _plain(value: Any, exclude_none: bool) -> Any:
    if isinstance(value, Section):
        return value.to_dict(exclude_none=exclude_none)
    if isinstance(value, list):
        return [_plain(v, exclude_none) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v, exclude_none) for k, v in value.items()}
    return value
