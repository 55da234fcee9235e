"""A scripted DetailMaster judge: deterministic answers from a table, else from a hash.

A library-shipped double (like the identity tokenizer): it stands in for YOLOE, Qwen2.5-VL and
BLIP in tests and in offline plumbing runs (``-O judge=scripted``; rows are not comparable). The
same (image, question) always gets the same answer, whatever the order of calls, and the answers
cover the protocol's corner cases: boxes that overlap the detector's by more or less than 0.7
IoU, fenced JSON, JSON objects, 5-number lists, tuples, prose, and "yes" hidden in "eyes". Like
Qwen2.5-VL, it answers boxes in the frame of the image as the model saw it (resized to multiples
of 28 px), not in the image's pixels.
``calls`` counts every question asked, by kind.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

YES_NO = ("yes", "Yes.", "no", "No.", "eyes", "I cannot tell.", "YES, it is.", " yes", "Nope")
_NAME_IN_BBOX_Q = 'of the region "'


def fingerprint(image: Any) -> str:
    """A content hash of a PIL image (mode, size, pixels)."""
    h = hashlib.sha1(f"{image.mode}|{image.size}|".encode())
    h.update(image.tobytes())
    return h.hexdigest()


class ScriptedJudge:
    """``table[(kind, text)]`` (a value or ``f(image, text)``) overrides the hashed answers."""

    name = "scripted"
    weights = "none"
    backend = "scripted"

    def __init__(
        self,
        table: Mapping[tuple[str, str], Any] | None = None,
        seed: int = 0,
        fail_after: int | None = None,
    ) -> None:
        self.table = dict(table or {})
        self.seed = seed
        self.fail_after = fail_after  # raise after this many calls (tests of resume)
        self.calls: Counter[str] = Counter()
        self.asked: list[tuple[str, str, str]] = []  # (kind, image fingerprint, text)

    def _h(self, *parts: str) -> int:
        text = "\x1f".join((str(self.seed), *parts))
        return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")

    def _count(self, kind: str, image: Any, text: str) -> None:
        if self.fail_after is not None and sum(self.calls.values()) >= self.fail_after:
            raise RuntimeError(f"scripted judge: injected failure after {self.fail_after} calls")
        self.calls[kind] += 1
        self.asked.append((kind, fingerprint(image), text))

    def _table(self, kind: str, image: Any, text: str) -> tuple[bool, Any]:
        if (kind, text) not in self.table:
            return False, None
        value = self.table[(kind, text)]
        return True, (value(image, text) if callable(value) else value)

    def _detect(self, image: Any, name: str) -> list[float] | None:
        hit, value = self._table("detect", image, name)
        if hit:
            return value
        h = self._h("detect", fingerprint(image), name)
        if h % 10 < 3:
            return None
        w, ht = image.size
        x1 = (h >> 8) % max(1, w // 2) + ((h >> 40) % 100) / 100
        y1 = (h >> 16) % max(1, ht // 2) + ((h >> 48) % 100) / 100
        x2 = min(w - 0.25, x1 + 4 + (h >> 24) % max(1, w // 2))
        y2 = min(ht - 0.25, y1 + 4 + (h >> 32) % max(1, ht // 2))
        return [x1, y1, x2, y2]

    def detect(self, image: Any, name: str) -> list[float] | None:
        self._count("detect", image, name)
        return self._detect(image, name)

    def ask(self, image: Any, prompt: str) -> str:
        self._count("ask", image, prompt)
        hit, value = self._table("ask", image, prompt)
        if hit:
            return value
        h = self._h("ask", fingerprint(image), prompt)
        if _NAME_IN_BBOX_Q in prompt:
            name = prompt.split(_NAME_IN_BBOX_Q, 1)[1].split('"', 1)[0]
            return self._box_answer(image, name, h)
        return YES_NO[h % len(YES_NO)]

    def _box_answer(self, image: Any, name: str, h: int) -> str:
        from evalkit.judges.vlm import frame_size

        raw = self._detect(image, name)
        if raw is None:
            raw = [1.0, 1.0, 9.0, 9.0]
        frame_w, frame_h = frame_size(*image.size)
        sx, sy = frame_w / image.size[0], frame_h / image.size[1]
        raw = [raw[0] * sx, raw[1] * sy, raw[2] * sx, raw[3] * sy]
        x1, y1, x2, y2 = int(raw[0]), int(raw[1]), int(raw[2]) + 1, int(raw[3]) + 1
        w, ht = x2 - x1, y2 - y1
        variants: list[Callable[[], str]] = [
            lambda: f"[{x1}, {y1}, {x2}, {y2}]",  # IoU 1
            lambda: f"[{x1 - 1}, {y1 - 1}, {x2 + 1}, {y2}]",  # usually > 0.7, larger
            lambda: f"[{x1 + w}, {y1}, {x2 + w}, {y2}]",  # no overlap
            lambda: f"[{x1}, {y1}, {x2}, {y1 + 0.7 * ht}]",  # IoU about 0.7
            lambda: f"The box is [{x1}, {y1}, {x2}, {y2}].",  # prose: unparseable
            lambda: f"```json\n[{x1}, {y1}, {x2}, {y2}]\n```",  # fenced: parseable
            lambda: f'[{{"bbox_2d": [{x1}, {y1}, {x2}, {y2}], "label": "{name}"}}]',  # JSON objs
            lambda: f"[{x1 - 2}, {y1 - 2}, {x2 + 1}, {y2 + 1}, 1]",  # 5 numbers, larger
            lambda: f"({x1}, {y1}, {x2 - 1}, {y2 - 1})",  # tuple, smaller
            lambda: f"[{x2}, {y2}, {x1}, {y1}]",  # reversed corners
            lambda: f"[{x1 + 0.5}, {y1 + 0.5}, {x2 - 0.5}, {y2 + 0.5}]",  # floats
            lambda: f"[{x1}, {y1}, {x2}]",  # 3 numbers
        ]
        return variants[(h >> 4) % len(variants)]()

    def match(self, image: Any, text: str) -> float:
        self._count("match", image, text)
        hit, value = self._table("match", image, text)
        if hit:
            return value
        return (self._h("match", fingerprint(image), text) % 1000) / 1000

    def describe(self) -> str:
        return "scripted (deterministic table/hash double; no weights)"


def build(**options: Any) -> ScriptedJudge:
    return ScriptedJudge(seed=int(options.get("seed", 0)))
