"""TokBench as an evalkit Benchmark: official data + official judges, or the embedded mini set.

``tokbench``: the Hub dataset ``Junfeng5/TokBench`` (``data=`` a local copy, else the store path
``datasets/tokbench``), judged by docTR PARSeq and insightface antelopev2 as the official code.
``tokbench-mini``: the embedded offline subset, judged by offline judges (rapidocr, dlib).
Either judge can be chosen with ``ocr_judge=`` / ``face_judge=``.

Per image: letterbox to the setting (load), the model reconstructs, then (score) un-pad, LANCZOS
back to the original size, re-encode as the official scripts save it (the original file's format
with PIL defaults; ``recon_format='lossless'`` skips that), cut the GT text boxes from the
reconstruction and align the GT faces on original and reconstruction alike; all crops of a batch
go through each judge in one call.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from evalkit import catalog
from evalkit.benchmarks.base import BatchScore, Benchmark, BenchmarkSpec, MetricValue, RunFacts
from evalkit.benchmarks.tokbench import data as tbdata
from evalkit.benchmarks.tokbench.geometry import crop_text
from evalkit.benchmarks.tokbench.judges import (
    OFFICIAL,
    OFFLINE,
    build_judge,
    check_judge,
    weights_of,
)
from evalkit.benchmarks.tokbench.metrics import bin_of, summarize
from evalkit.benchmarks.tokbench.protocol import Letterbox, letterbox, restore, to_tensor, to_uint8
from evalkit.cards import load_card, metric_ids, protocol_card, protocol_text, reported_values

if TYPE_CHECKING:
    import pandas as pd
    import torch

    from evalkit.types import ModelCard

# Version, resolutions, bins, judges, dataset pins and published values: the cards
# benchmarks/tokbench/ and benchmarks/tokbench-mini/ (the mini set runs tokbench's protocol).
_OPTIONS = {
    "resolution",
    "data",
    "ocr_judge",
    "face_judge",
    "sets",
    "faces",
    "texts",
    "recon_format",
    "ocr_batch_size",
    "face_batch_size",
    "out_of_vocab",
}
OUT_OF_VOCAB = ("skip", "score")  # skip: the official batches skipped by eval_text.py (quirk)


class TokBench(Benchmark):
    """Text (T-ACC, T-NED) and face (F-Sim) fidelity of reconstructions, binned by scale."""

    def __init__(
        self,
        name: str = "tokbench",
        *,
        resolution: int = 256,
        data: str | Path | None = None,
        ocr_judge: str | None = None,
        face_judge: str | None = None,
        sets: Sequence[str] | str | None = None,
        faces: bool = True,
        texts: bool = True,
        recon_format: str | None = None,
        ocr_batch_size: int | None = None,
        face_batch_size: int | None = None,
        out_of_vocab: str | None = None,
    ) -> None:
        resolution = int(resolution)
        self.mini = name.endswith("-mini")
        # The official scripts save each reconstruction under the original file name (PIL then
        # writes a .jpg as JPEG quality 75) and read it back: we do the same for `tokbench`.
        recon_format = recon_format or ("lossless" if self.mini else "as-original")
        card = load_card(name)
        if resolution not in card["resolutions"]:
            raise ValueError(f"TokBench resolution must be one of {card['resolutions']}")
        if recon_format not in ("as-original", "lossless"):
            raise ValueError("recon_format must be 'as-original' or 'lossless'")
        out_of_vocab = out_of_vocab or OUT_OF_VOCAB[0]
        if out_of_vocab not in OUT_OF_VOCAB:
            raise ValueError(f"out_of_vocab must be one of {', '.join(OUT_OF_VOCAB)}")
        self.out_of_vocab = out_of_vocab
        if self.mini and data is not None:
            raise ValueError("tokbench-mini reads the embedded set; use 'tokbench' with data=")
        self.resolution = resolution
        self.recon_format = recon_format
        defaults = OFFLINE if self.mini else OFFICIAL
        self.judge_names = {
            "ocr": ocr_judge or defaults["ocr"],
            "face": face_judge or defaults["face"],
        }
        # None: the judge's own default for its device (batching never changes a prediction)
        self.batch_sizes = {"ocr": ocr_batch_size, "face": face_batch_size}
        if isinstance(sets, str):
            sets = tuple(s for s in sets.split(",") if s)
        self.sets = tuple(sets) if sets else None
        if self.mini:
            self.root = tbdata.mini_root()
            text_sets = tuple(sets) if sets else None
            source, license = card["dataset"]["source"], tbdata.mini_license(self.root)
        else:
            self.root = tbdata.find_official(data)
            text_sets = tuple(sets) if sets else tbdata.OFFICIAL_TEXT_SETS
            source, license = card["dataset"]["source"], tbdata.LICENSE
        if not texts:
            text_sets = ()
        samples = tbdata.load_samples(self.root, text_sets, faces=faces)
        self.samples = samples
        self.kinds = tuple(sorted({s.kind for s in samples}))
        self.metrics = {m: catalog.metrics.build(m) for m in metric_ids(name)}
        self.judges: dict[str, Any] = {}
        self.options_in_effect = {
            "ocr_judge": self.judge_names["ocr"],
            "face_judge": self.judge_names["face"],
            "sets": sets,
            "faces": faces,
            "texts": texts,
            "recon_format": recon_format,
            "ocr_batch_size": ocr_batch_size,
            "face_batch_size": face_batch_size,
            "data": "" if data is None else str(data),
            "out_of_vocab": out_of_vocab,
        }
        self.spec = BenchmarkSpec(
            name=name,
            version=card["version"],
            description=card["description"],
            task=card["task"],
            dataset=tbdata.manifest(name, source, self.root, samples, license),
            resolution=resolution,
            resize=(
                protocol_card(name)["resize"]
                + (
                    ", re-encoded in the original file format (PIL defaults)"
                    if recon_format == "as-original"
                    else ", lossless"
                )
            ),
            metrics=metric_ids(name),
            protocol=protocol_text(name),
            options={
                "ocr_judge": self.judge_names["ocr"],
                "face_judge": self.judge_names["face"],
                "sets": list(text_sets) if text_sets is not None else "all",
                "faces": faces,
                "texts": texts,
                "recon_format": recon_format,
                "out_of_vocab": out_of_vocab,
            },
        )

    def facts(self, scored_ids: Sequence[str]) -> RunFacts:
        """Images of the annotation files read; the official set is every image they name."""
        return RunFacts(
            unit="image",
            expected=None if self.mini else len(self.samples),  # mini: the card's n
            scored=len(self.units_in(scored_ids)),
            subset=None if self.sets is None else "sets=" + ",".join(self.sets),
            judges={kind: self.judge_names[kind] for kind in self._judge_kinds()},
            options=self.options_in_effect,
            resolution=self.resolution,
        )

    # --- runner hooks ---------------------------------------------------------------------
    def check(self) -> None:
        for kind in self._judge_kinds():
            check_judge(kind, self.judge_names[kind])

    def setup(self, device: torch.device | str = "cpu") -> None:
        for kind in self._judge_kinds():
            if kind not in self.judges:
                size = self.batch_sizes[kind]
                extra = {} if size is None else {"batch_size": int(size)}
                self.judges[kind] = build_judge(
                    kind, self.judge_names[kind], device=str(device), **extra
                )
        self._announce()

    def _judge_kinds(self) -> list[str]:
        return ["ocr"] * ("text" in self.kinds) + ["face"] * ("face" in self.kinds)

    def _announce(self) -> None:
        import sys

        used = ", ".join(j.describe() for j in self.judges.values())
        print(f"tokbench judges: {used}", file=sys.stderr)

    def sample_ids(self) -> list[str]:
        return [s.id for s in self.samples]

    def load(self, index: int) -> dict[str, Any]:
        s = self.samples[index]
        with Image.open(s.path) as im:
            img = im.convert("RGB")
        canvas, meta = letterbox(img, self.resolution)
        item: dict[str, Any] = {"input": to_tensor(canvas), "sample_id": s.id, "index": index}
        item["letterbox"] = meta
        if s.kind == "face":  # faces compare with the original; text compares with the GT string
            item["original"] = np.asarray(img)
        return item

    def reconstructed_image(self, item: dict[str, Any], output: torch.Tensor) -> np.ndarray:
        """The reconstruction at the original size, as the official scripts would read it back."""
        meta: Letterbox = item["letterbox"]
        img = restore(Image.fromarray(to_uint8(output)), meta)
        if self.recon_format == "as-original":
            fmt = Image.registered_extensions().get(self.samples[item["index"]].path.suffix.lower())
            if fmt and fmt != "PNG":
                buf = io.BytesIO()
                img.save(buf, format=fmt)
                buf.seek(0)
                with Image.open(buf) as re_read:
                    img = re_read.convert("RGB")
        return np.asarray(img)

    def score(self, items: list[dict[str, Any]], outputs: torch.Tensor) -> BatchScore:
        if not self.judges:
            self.setup("cpu")
        records: list[dict[str, Any]] = []
        crops: list[np.ndarray] = []
        batch_lengths: list[int | None] = []  # PARSeq's official decoding bound per crop
        text_rows: list[dict[str, Any]] = []
        chips_o: list[np.ndarray] = []
        chips_r: list[np.ndarray] = []
        face_rows: list[dict[str, Any]] = []
        for item, out in zip(items, outputs, strict=True):
            s = self.samples[item["index"]]
            rec = self.reconstructed_image(item, out)
            for k, inst in enumerate(s.instances):
                row = self._row(s, k, inst)
                if s.kind == "text":
                    crops.append(crop_text(rec, inst["bbox"]))
                    batch_lengths.append(s.batch_gt_lengths[k] if s.batch_gt_lengths else None)
                    text_rows.append(row)
                else:
                    judge = self.judges["face"]
                    chips_o.append(judge.align(item["original"], inst["kps"]))
                    chips_r.append(judge.align(rec, inst["kps"]))
                    face_rows.append(row)
        if crops:
            judge = self.judges["ocr"]
            preds = judge.read(crops, max_lengths=batch_lengths)
            for row, pred in zip(text_rows, preds, strict=True):
                row.update(
                    pred=pred,
                    t_acc=self.metrics["t_acc"](row["gt"], pred),
                    t_ned=self.metrics["t_ned"](row["gt"], pred),
                )
                row.update(judge=judge.name, judge_weights=judge.weights)
        if chips_o:
            judge = self.judges["face"]
            emb = judge.embed(chips_o + chips_r)
            sims = self.metrics["f_sim"](emb[: len(chips_o)], emb[len(chips_o) :])
            for row, sim in zip(face_rows, sims, strict=True):
                row.update(f_sim=float(sim), judge=judge.name, judge_weights=judge.weights)
        records = text_rows + face_rows
        return BatchScore(records=records)

    def _row(self, s: tbdata.Sample, k: int, inst: dict[str, Any]) -> dict[str, Any]:
        ratio = float(inst["ratio"])
        gt = inst.get("rec") if s.kind == "text" else inst.get("gt")
        return {
            "sample_id": s.id,
            "instance": k,
            "image": s.path.name,
            "set": s.set,
            "kind": s.kind,
            "gt": None if gt is None else str(gt),
            "pred": None,
            "ratio": ratio,
            "bin": bin_of(ratio, s.kind, self.resolution),
            "official_skip": bool(s.official_skip[k]) if s.official_skip else False,
            "t_acc": math.nan,
            "t_ned": math.nan,
            "f_sim": math.nan,
            "judge": None,
            "judge_weights": None,
        }

    def summarize(
        self, records: pd.DataFrame, state: dict[str, np.ndarray] | None = None
    ) -> list[MetricValue]:
        table = summarize(self._marked(records), self.resolution)
        out: list[MetricValue] = []
        for row in table.itertuples(index=False):
            kind = "face" if row.metric == "f_sim" else "text"
            metric = self.metrics[str(row.metric)]
            value = MetricValue(
                metric=metric.id,
                value=float(row.value),
                n=int(row.n),
                higher_is_better=metric.higher_is_better,
                metric_version=metric.version,
                subset=kind,
                bin=str(row.bin),
                judge=self.judge_names["ocr" if kind == "text" else "face"],
                judge_weights=self._judge_weights("ocr" if kind == "text" else "face", records),
            )
            out.append(value)  # the runner adds reported values through reported_value()
        return out

    def _marked(self, records: pd.DataFrame) -> pd.DataFrame:
        """The records with ``official_skip`` from the loader (also for records of a resumed run
        that lack it); under ``out_of_vocab=score`` without it, so every instance is scored."""
        records = records.drop(columns=["official_skip"], errors="ignore")
        if self.out_of_vocab == "score":
            return records
        flags = {(s.id, k): skip for s in self.samples for k, skip in enumerate(s.official_skip)}
        keys = zip(records["sample_id"], records["instance"], strict=True)
        return records.assign(official_skip=[flags.get((sid, int(k)), False) for sid, k in keys])

    def _judge_weights(self, kind: str, records: pd.DataFrame | None = None) -> str:
        """The judge's weights id: from the loaded judge, else the records (a resumed run)."""
        if kind in self.judges:
            return self.judges[kind].weights
        if records is not None and "judge_weights" in records.columns:
            name = self.judge_names[kind]
            seen = records.loc[records["judge"] == name, "judge_weights"].dropna().unique()
            if len(seen):
                return ",".join(sorted(str(s) for s in seen))
        return weights_of(kind, self.judge_names[kind])

    def describe_judges(self) -> dict[str, str]:
        return {self.judge_names[k]: self._judge_weights(k) for k in self._judge_kinds()}

    def reported_value(self, card: ModelCard, value: MetricValue) -> float | None:
        """The official leaderboard's number (as a fraction for T-ACC/T-NED), if comparable."""
        if self.mini or self.judge_names != OFFICIAL:  # other judges: a different measurement
            return None
        name = card.tokbench_name or ("Resize" if card.id == "resize" else None)
        if name is None:
            return None
        return reported(name, self.resolution, value.metric, value.bin)


@cache
def _reported() -> dict[tuple[str, int, str, str], float]:
    """(model, setting, metric, bin) -> value in our units (T-ACC/T-NED published in percent)."""
    out = {}
    for row in reported_values("tokbench"):
        v = float(row["value"])
        out[(row["model"], int(row["setting"]), row["metric"], row["bin"])] = (
            v / 100.0 if row.get("units") == "percent" else v
        )
    return out


def reported(method: str, resolution: int, metric: str, bin: str) -> float | None:
    """A value of the official leaderboard (benchmarks/tokbench/reported.csv), in our units."""
    return _reported().get((method, int(resolution), metric, bin))


def build(name: str, **options: Any) -> TokBench:
    """Registry factory: ``tokbench`` (official data and judges) or ``tokbench-mini``."""
    unknown = sorted(set(options) - _OPTIONS)
    if unknown:
        raise ValueError(
            f"unknown option(s) for {name}: {', '.join(unknown)}; "
            f"known: {', '.join(sorted(_OPTIONS))}"
        )
    if name not in ("tokbench", "tokbench-mini"):
        raise ValueError(f"unknown TokBench variant {name!r}: use 'tokbench' or 'tokbench-mini'")
    return TokBench(name, **options)
