"""Drive many record jobs in lock-step, so the questions of many images go to the judge together.

:func:`drive` runs the generators of :func:`protocol.judge_record` side by side: each round it
collects every pending request, hands them to ``answer`` in one list and sends each job its
answers. ``answer`` decides how to answer (a journal of earlier answers, batched model calls, a
scripted table): the decisions stay in the protocol module.

:func:`evaluate` is the public, pure entry point with a judge of three single-item methods.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from evalkit.benchmarks.detailmaster.protocol import (
    Request,
    Unit,
    accuracies,
    counts,
    judge_record,
)


@runtime_checkable
class Judge(Protocol):
    """The three judges of DetailMaster, one item at a time.

    ``detect``: YOLOE's top box ``[x1, y1, x2, y2]`` (pixels, floats) for ``name``, or None.
    ``ask``: the VLM's answer text. ``match``: BLIP's image-text score (only protocol=fixed).
    ``image`` is exactly what the official code sends: the RGB image, a crop, or a copy with
    red boxes drawn on it.
    """

    def detect(self, image: Any, name: str) -> Sequence[float] | None: ...

    def ask(self, image: Any, prompt: str) -> str: ...

    def match(self, image: Any, text: str) -> float: ...


def answer_one(judge: Any, req: Request) -> Any:
    """Ask ``judge`` one request through its single-item method."""
    if req.kind == "detect":
        return judge.detect(req.image, req.text)
    if req.kind == "ask":
        return judge.ask(req.image, req.text)
    return judge.match(req.image, req.text)


def answer_many(judge: Any, reqs: Sequence[Request]) -> list[Any]:
    """Answer requests of one kind, through the judge's ``<kind>_batch`` method when it has one."""
    if not reqs:
        return []
    batch = getattr(judge, f"{reqs[0].kind}_batch", None)
    if batch is not None:
        out = list(batch([(r.image, r.text) for r in reqs]))
        if len(out) != len(reqs):
            raise ValueError(
                f"judge {reqs[0].kind}_batch returned {len(out)} answers for {len(reqs)} requests"
            )
        return out
    return [answer_one(judge, r) for r in reqs]


def drive(
    jobs: Sequence[Any], answer: Callable[[list[tuple[int, Request]]], list[Any]]
) -> list[list[Unit]]:
    """Run record jobs in lock-step; ``answer([(job index, request), ...])`` -> answers."""
    results: list[list[Unit] | None] = [None] * len(jobs)
    waiting: dict[int, list[Request]] = {}
    for i, job in enumerate(jobs):
        try:
            waiting[i] = job.send(None)
        except StopIteration as stop:
            results[i] = stop.value
    while waiting:
        flat = [(i, r) for i, reqs in waiting.items() for r in reqs]
        answers = answer(flat) if flat else []
        if len(answers) != len(flat):
            raise ValueError(f"got {len(answers)} answers for {len(flat)} questions")
        by_job: dict[int, list[Any]] = {i: [] for i in waiting}
        for (i, _), a in zip(flat, answers):
            by_job[i].append(a)
        nxt: dict[int, list[Request]] = {}
        for i, got in by_job.items():
            try:
                nxt[i] = jobs[i].send(got)
            except StopIteration as stop:
                results[i] = stop.value
        waiting = nxt
    return [r if r is not None else [] for r in results]


def image_key(record: Mapping[str, Any]) -> str:
    """The official image key: ``f"{dataset_target}_{image_id}"``."""
    return f"{record['dataset_target']}_{record['image_id']}"


def evaluate(
    records: Sequence[Mapping[str, Any]],
    images: Mapping[str, Sequence[Any]],
    judge: Any,
    protocol: str = "official",
    mini: bool = False,
    *,
    allow_missing: bool = False,
) -> dict[str, float]:
    """The official accuracies of ``records`` judged on ``images`` (key -> list of PIL images).

    Returns cal_eval.py's 9 keys (``mini=True``: cal_eval_mini.py's 11, with the ``_detect``
    variants), typos included, unrounded (cal_eval rounds to 4 decimals), NaN where a dimension
    is empty (cal_eval raises). Several images of one key are pooled, as officially. A record
    without images is an error naming it; ``allow_missing=True`` drops it (the official
    behaviour). Each distinct question on one image is asked once.
    """
    return accuracies(
        counts(evaluate_units(records, images, judge, protocol, mini, allow_missing=allow_missing)),
        mini,
    )


def evaluate_units(
    records: Sequence[Mapping[str, Any]],
    images: Mapping[str, Sequence[Any]],
    judge: Any,
    protocol: str = "official",
    mini: bool = False,
    *,
    allow_missing: bool = False,
) -> list[Unit]:
    """Every counted unit of :func:`evaluate` (for counts, per-dimension n, audits)."""
    found = judgements(records, images, judge, protocol, mini, allow_missing=allow_missing)
    return [u for j in found for u in j.units]


@dataclass
class Judgement:
    """One prompt record judged on one image of its key: the official code's per-image state.
    ``record`` indexes the records given, ``image`` the images of the key."""

    record: int
    key: str
    image: int
    units: list[Unit]


def judgements(
    records: Sequence[Mapping[str, Any]],
    images: Mapping[str, Sequence[Any]],
    judge: Any,
    protocol: str = "official",
    mini: bool = False,
    *,
    allow_missing: bool = False,
) -> list[Judgement]:
    """Each record judged on every image of its key (the official loops), in record order then
    image order. The records sharing an image are judged together: each distinct question on
    one image is asked once."""
    missing = [image_key(r) for r in records if not images.get(image_key(r))]
    if missing and not allow_missing:
        raise KeyError(
            f"{len(missing)} DetailMaster prompt(s) have no image, e.g. "
            f"{sorted(set(missing))[:5]}; pass allow_missing=True to drop them "
            "(the official code does so silently)"
        )
    by_key: dict[str, list[int]] = {}
    for i, r in enumerate(records):
        if images.get(image_key(r)):
            by_key.setdefault(image_key(r), []).append(i)
    out: list[Judgement] = []
    for key, idx in by_key.items():
        for k, image in enumerate(images[key]):
            memo: dict[str, Any] = {}

            def answer(flat: list[tuple[int, Request]], memo: dict[str, Any] = memo) -> list[Any]:
                got = []
                for _, req in flat:
                    if req.key not in memo:
                        memo[req.key] = answer_one(judge, req)
                    got.append(memo[req.key])
                return got

            jobs = [judge_record(dict(records[i]), image, protocol, mini) for i in idx]  # type: ignore[arg-type]
            out += [Judgement(i, key, k, units) for i, units in zip(idx, drive(jobs, answer))]
    return sorted(out, key=lambda j: (j.record, j.image))
