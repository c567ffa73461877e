"""How the command line shows and reads its flags: the typer classes etl.cli builds its commands with.

Typer's help shows a flag's Python type after it (``--all <bool>``, ``--help <bool>``), which
reads as if the flag took a value, and ``--all true`` then failed with "unexpected extra
argument". Here a flag shows no type, and a flag followed by one of click's boolean words
(true/false, yes/no, on/off, 1/0) takes it as its value: ``--all true`` is ``--all`` and
``--all false`` leaves it out.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

# The words a flag takes as its value, as click reads a boolean option's value.
BOOLEAN_WORDS = {"1": True, "true": True, "t": True, "yes": True, "y": True, "on": True,
                 "0": False, "false": False, "f": False, "no": False, "n": False, "off": False}


def _is_flag(param: Any) -> bool:
    """An on/off option (typer's own click, which it vendors, is duck-typed here)."""
    return bool(getattr(param, "is_bool_flag", False)) and not getattr(param, "secondary_opts", ())


def _flags(params: list[Any]) -> list[Any]:
    """The parameters, every on/off flag (the help option too) shown without a type."""
    for param in params:
        if _is_flag(param):
            param.metavar = ""
    return params


def _flag_values(params: list[Any], args: list[str]) -> list[str]:
    """The arguments with ``--flag <boolean word>`` read as the flag given or left out."""
    names = {opt for p in params if _is_flag(p) for opt in p.opts}
    out: list[str] = []
    words = iter(range(len(args)))
    for n in words:
        word = args[n]
        if word == "--":
            out += args[n:]
            break
        state = BOOLEAN_WORDS.get(args[n + 1].strip().lower()) if (
            word in names and n + 1 < len(args)) else None
        if state is None:
            out.append(word)
            continue
        if state:
            out.append(word)
        next(words)  # the boolean word is the flag's, not an argument
    return out


class Command(TyperCommand):
    """A command whose flags show no type and take an optional boolean word."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _flags(super().get_params(ctx))

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, _flag_values(self.get_params(ctx), args))


class Group(TyperGroup):
    """A command group whose own flags (--help) show no type."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _flags(super().get_params(ctx))


class App(typer.Typer):
    """typer.Typer building its groups and commands with the classes above."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cls=Group, **kwargs)

    def command(self, *args: Any, **kwargs: Any):  # type: ignore[override]
        kwargs.setdefault("cls", Command)
        return super().command(*args, **kwargs)
