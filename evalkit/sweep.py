"""Model sweeps on the command line: ``--model 'jpeg-q{10..90..10},taef2'``.

Comma-separated ids and shell-style brace expressions (``{a..b}``, ``{a..b..step}``,
``{x,y,z}``) expand to a list of concrete ids before anything is built, so a pattern never
reaches a model factory unexpanded.
"""

from __future__ import annotations

import re

_RANGE = re.compile(r"^(-?\d+)\.\.(-?\d+)(?:\.\.(-?\d+))?$")


class SweepError(ValueError):
    """A model list or brace expression that cannot be expanded."""


def _split_top(text: str, sep: str = ",") -> list[str]:
    """Split on ``sep`` outside braces."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                raise SweepError(f"unbalanced '}}' in {text!r}")
        if ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if depth:
        raise SweepError(f"unbalanced '{{' in {text!r}")
    parts.append("".join(cur))
    return parts


def _alternatives(body: str) -> list[str]:
    match = _RANGE.match(body)
    if match:
        start, stop = int(match.group(1)), int(match.group(2))
        step = abs(int(match.group(3) or 1))
        if step == 0:
            raise SweepError(f"step 0 in {{{body}}}")
        direction = 1 if stop >= start else -1
        return [str(v) for v in range(start, stop + direction, step * direction)]
    options = _split_top(body)
    if len(options) < 2:
        raise SweepError(f"{{{body}}} is neither a range a..b[..step] nor a list x,y")
    return [alt for option in options for alt in expand_one(option)]


def expand_one(pattern: str) -> list[str]:
    """Expand the first brace group of ``pattern``, recursively."""
    start = pattern.find("{")
    if start < 0:
        if "}" in pattern:
            raise SweepError(f"unbalanced '}}' in {pattern!r}")
        return [pattern]
    depth = 0
    for end in range(start, len(pattern)):
        depth += {"{": 1, "}": -1}.get(pattern[end], 0)
        if depth == 0:
            break
    else:
        raise SweepError(f"unbalanced '{{' in {pattern!r}")
    head, body, tail = pattern[:start], pattern[start + 1 : end], pattern[end + 1 :]
    return [head + alt + rest for alt in _alternatives(body) for rest in expand_one(tail)]


def expand_models(spec: str) -> list[str]:
    """``'jpeg-q{10..30..10},taef2'`` -> ``['jpeg-q10', 'jpeg-q20', 'jpeg-q30', 'taef2']``."""
    ids: list[str] = []
    for part in _split_top(spec.strip()):
        part = part.strip()
        if not part:
            raise SweepError(f"empty model id in {spec!r}")
        for model_id in expand_one(part):
            if model_id not in ids:
                ids.append(model_id)
    return ids
