"""Typed benchmark options: ``-O key=value`` strings checked against the factory's signature.

A benchmark factory's keyword parameters are its options. Each value given on the command line (a
string) or through :func:`evalkit.run` is converted to the parameter's annotated type and checked
here, once, so a typo (``-O nonsense=1``), a wrong type (``-O limit=abc``) or an impossible value
(``--limit 0``, ``--resolution -5``) is one :class:`OptionError` naming the option, before any
data or weights are touched. Factories that take ``**options`` check their own names; the options
every benchmark shares (``limit``, ``resolution``) are typed and range-checked here for all.

Standard library only (no torch): the CLI imports it before a command runs.
"""

from __future__ import annotations

import inspect
import json
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any


class OptionError(ValueError):
    """A benchmark or run option that is unknown, of the wrong type or out of range."""


# Options every benchmark understands: name -> (annotation, minimum or None).
COMMON: dict[str, tuple[str, int | None]] = {
    "limit": ("int | None", 1),
    "resolution": ("int | None", 1),
}
_KNOWN = {"None", "bool", "int", "float", "str", "Path", "list"}
_TRUE, _FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}


def _annotation_types(annotation: Any) -> set[str]:
    """Names of the types an annotation allows: {'int', 'None', 'str', 'Path', 'list', ...}."""
    if annotation is inspect.Parameter.empty or annotation is Any:
        return {"any"}
    text = annotation if isinstance(annotation, str) else _type_text(annotation)
    names = set()
    for part in text.replace("Optional[", "").replace("]", "|").split("|"):
        base = part.strip().split("[")[0].rsplit(".", 1)[-1]
        if not base:
            continue
        if base in ("Sequence", "list", "tuple", "List", "Tuple"):
            base = "list"
        names.add(base)
    return names or {"any"}


def _type_text(annotation: Any) -> str:
    """A runtime annotation as text: ``int | None`` -> "int | None", ``list[str]`` -> "list"."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return " | ".join(_type_text(a) for a in typing.get_args(annotation))
    if origin is not None:
        return getattr(origin, "__name__", str(origin))
    if annotation is type(None):
        return "None"
    return getattr(annotation, "__name__", str(annotation))


def _convert(name: str, raw: Any, types: set[str]) -> Any:
    """``raw`` (a CLI string or a Python value) as one of ``types``; OptionError if none fits."""
    if "any" in types or types - _KNOWN:  # e.g. dict: JSON on the command line
        if isinstance(raw, str):
            try:
                return json.loads(raw)
            except json.JSONDecodeError:
                return raw
        return raw
    if raw is None:
        if "None" in types:
            return None
        raise OptionError(f"option {name} needs a value")
    if isinstance(raw, str) and raw.lower() in ("none", "null") and "None" in types:
        return None
    if "bool" in types:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in _TRUE | _FALSE:
            return raw.lower() in _TRUE
    if "int" in types:
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        if isinstance(raw, str):
            try:
                return int(raw.strip())
            except ValueError:
                pass
    if "float" in types:
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            return float(raw)
        if isinstance(raw, str):
            try:
                return float(raw)
            except ValueError:
                pass
    if types & {"str", "Path"} and isinstance(raw, (str, Path)):
        return str(raw) if "str" in types else Path(raw)
    if "list" in types and isinstance(raw, (list, tuple)):
        return raw
    wanted = " or ".join(sorted(_WORDS.get(t, t) for t in types if t != "None"))
    raise OptionError(f"option {name}={raw!r}: expected {wanted}")


_WORDS = {
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "str": "text",
    "Path": "a path",
    "list": "a comma-separated list",
}


def factory_options(factory: Callable[..., Any]) -> tuple[dict[str, set[str]], bool]:
    """(keyword options -> allowed type names, whether the factory also takes ``**options``)."""
    sig = inspect.signature(factory)
    params = list(sig.parameters.values())[1:]  # the first parameter is the benchmark id
    typed = {
        p.name: _annotation_types(p.annotation)
        for p in params
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    }
    var_kw = any(p.kind == p.VAR_KEYWORD for p in params)
    return typed, var_kw


def check_options(
    target: str, factory: Callable[..., Any], options: Mapping[str, Any], kind: str = "benchmark"
) -> dict[str, Any]:
    """Typed, range-checked options for ``factory``; OptionError names the first bad one."""
    typed, var_kw = factory_options(factory)
    out: dict[str, Any] = {}
    for key, raw in options.items():
        name = key.replace("-", "_")
        if name in typed:
            types = typed[name]
        elif name in COMMON and var_kw:
            types = _annotation_types(COMMON[name][0])
        elif var_kw:
            types = {"any"}  # the factory checks names it does not declare
        else:
            known = ", ".join(sorted(typed)) or "none"
            raise OptionError(
                f"unknown option {name!r} for {kind} {target}; its options are: {known}"
            )
        out[name] = _in_range(name, _convert(name, raw, types))
    return out


def _in_range(name: str, value: Any) -> Any:
    minimum = COMMON.get(name, (None, None))[1]
    if minimum is not None and isinstance(value, int) and value < minimum:
        raise OptionError(f"option {name}={value}: must be an integer >= {minimum}")
    return value


def common_option(name: str, raw: Any) -> Any:
    """One of the options every benchmark shares (``COMMON``), typed and range-checked."""
    if raw is None:
        return None
    return _in_range(name, _convert(name, raw, _annotation_types(COMMON[name][0])))


def parse_pairs(pairs: list[str]) -> dict[str, str]:
    """``["a=1", "b-c=x"]`` -> ``{"a": "1", "b_c": "x"}`` (values stay strings)."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise OptionError(f"bad option {pair!r}: use KEY=VALUE")
        out[key.strip().replace("-", "_")] = raw
    return out


def check_run_settings(
    batch_size: int, workers: int | None, precision: str, precisions: Mapping[str, Any]
) -> None:
    """The runner's own knobs: one OptionError for an impossible value."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise OptionError(f"batch size must be an integer >= 1, not {batch_size!r}")
    if workers is not None and (not isinstance(workers, int) or workers < 0):
        raise OptionError(f"workers must be an integer >= 0, not {workers!r}")
    if precision not in precisions:
        raise OptionError(f"precision must be one of {', '.join(precisions)}, not {precision!r}")


def check_samples_model(model: str, benchmark: str, options: Mapping[str, Any]) -> None:
    """``--model samples:NAME`` stands for images made elsewhere; without ``-O samples=DIR`` no
    benchmark knows where they are (one OptionError, before any run folder is made)."""
    if model.startswith("samples:") and not options.get("samples"):
        raise OptionError(
            f"--model {model} scores images made elsewhere: give their folder (or .npz) with "
            f"-O samples=DIR (benchmark {benchmark})"
        )
