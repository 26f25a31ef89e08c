"""Telling an operator what is wrong with their configuration, one line per problem.

Pydantic's own messages name its internals and link to its documentation;
these name the key or variable the operator wrote and what to write instead.
"""

import json

from pydantic import ValidationError
from pydantic_core import ErrorDetails


def show(value: object) -> str:
    """Quote a value the way it looks in TOML/JSON, so strings appear in double quotes."""
    return json.dumps(value, ensure_ascii=False, default=str)


def _key_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path or "(top level)"


def _problem(error: ErrorDetails, *, show_input: bool) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key"
    if error["type"] == "missing":
        return "is required but not set"
    if error["type"] == "value_error":
        return str(error["ctx"]["error"])
    shown = f" (got {show(error['input'])})" if show_input else ""
    return error["msg"] + shown


def describe(error: ValidationError, *, source: str, show_input: bool) -> str:
    """One line per problem, naming where it is and what is wrong; no pydantic URLs.

    ``show_input`` is off for the environment, where the values are secrets.
    """
    return "\n".join(
        f"{source}: {_key_path(detail['loc'])}: {_problem(detail, show_input=show_input)}"
        for detail in error.errors(include_url=False)
    )
