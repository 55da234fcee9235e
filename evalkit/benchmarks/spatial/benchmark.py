"""`visor`, `t2i-compbench-spatial` and `geneval-position`: one official rule each.

Options (all benchmarks): ``detector`` (official by default; ``yolox-nano`` offline, labelled,
not complete), ``samples=DIR`` (images made elsewhere, official names), ``allow_missing``,
``overlays``; images are seeded from the run's ``--seed``. VISOR adds ``prompts=N`` (a fixed
subset stratified by relation) and ``visor_n``; T2I-CompBench adds ``protocol=official|fixed``.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from evalkit.benchmarks.base import MetricValue
from evalkit.benchmarks.spatial import prompts, rules
from evalkit.benchmarks.spatial.base import (
    VISOR_METRICS,
    SpatialBenchmark,
    _key,
    as_bool,
    metric,
    spec_for,
)
from evalkit.benchmarks.spatial.geneval_bridge import position_verdict
from evalkit.types import InputFileError


class Visor(SpatialBenchmark):
    official_detector = "owlvit"
    images_per_prompt = 4
    SUBSET_SEED = 0  # -O prompts=N: the same prompts whatever the run's --seed

    def __init__(self, prompts_n: int | None, visor_n: str, **kw: Any) -> None:
        super().__init__(**kw)
        if visor_n not in ("script", "notebook"):
            raise ValueError(f"visor: visor_n must be script or notebook, not {visor_n!r}")
        self.prompts_n, self.visor_n = prompts_n, visor_n
        chosen = (
            prompts.stratified_subset(prompts_n, self.SUBSET_SEED)
            if prompts_n
            else [p.unique_id for p in prompts.relation_prompts()]
        )
        sr2d = prompts.sr2d()
        groups = {}
        for uid in chosen:
            p = sr2d[uid]
            groups[uid] = [
                {
                    "sample_id": f"{uid}_{k}",
                    "file": f"{uid}_{k}.png",
                    "prompt": p.text,
                    "obj1": p.obj1,
                    "obj2": p.obj2,
                    "relation": p.relation,
                    "prompt_index": uid,
                    "image_index": k,
                    "unique_id": uid,
                }
                for k in range(self.images_per_prompt)
            ]
        self.items = []
        self.subset = None if prompts_n is None else f"prompts={prompts_n}"
        options = {**self.base_options(), "prompts": prompts_n or "all", "visor_n": visor_n}
        self.spec = spec_for(
            "visor",
            "VISOR on SR2D: OA, VISOR_cond/uncond, VISOR_1..4 (%)",
            VISOR_METRICS,
            options,
            len(groups),
        )
        self.keep_present(groups, "prompt")

    def image_path(self, item: dict[str, Any]) -> str | None:
        return f"images/{item['file']}"

    def judge(
        self, item: dict[str, Any], dets: dict[str, np.ndarray], size: tuple[int, int]
    ) -> dict[str, Any]:
        v = rules.visor_verdict(
            item["obj1"],
            item["obj2"],
            item["relation"],
            dets,
            where=f"image {item['sample_id']!r}: ",
        )
        return {"unique_id": item["unique_id"], **v.record()}

    def summarize_rule(self, records: pd.DataFrame, state: Any) -> list[MetricValue]:
        df = records.drop_duplicates("sample_id", keep="last")
        out = rules.visor_summary(df, visor_n=self.visor_n)
        n_images, n_prompts = len(df), df["unique_id"].nunique()
        return [
            metric(m, out[_key(m)], n_prompts if m[-1].isdigit() else n_images, self)
            for m in VISOR_METRICS
        ]

    def reported_value(self, card: Any, value: MetricValue) -> float | None:
        if self.visor_n != "script":  # the published table uses visor.py's VISOR_n
            return None
        return super().reported_value(card, value)


class T2ISpatial(SpatialBenchmark):
    official_detector = "unidet"
    verdict = "t2i_score"
    images_per_prompt = 10

    def __init__(self, protocol: str, **kw: Any) -> None:
        super().__init__(**kw)
        if protocol not in rules.PROTOCOLS:
            raise ValueError(f"t2i-compbench-spatial: protocol must be one of {rules.PROTOCOLS}")
        self.protocol = protocol
        rows = prompts.t2i_prompts()
        self.spec = spec_for(
            "t2i-compbench-spatial",
            "T2I-CompBench 2D-spatial (val, 300)",
            ("t2i_spatial",),
            {**self.base_options(), "protocol": protocol},
            len(rows),
        )
        if self.samples is None:
            groups = {
                p: [self._item(i, p, o1, o2, loc, k, i * 10 + k) for k in range(10)]
                for i, (p, o1, o2, loc) in enumerate(rows)
            }
        else:
            groups = self._scan(rows)
        self.keep_present(groups, "prompt")

    @staticmethod
    def _item(
        i: int, p: str, o1: str, o2: str, loc: str | None, k: int, counter: int
    ) -> dict[str, Any]:
        return {
            "sample_id": f"{p}_{counter:06}",
            "file": f"samples/{p}_{counter:06}.png",
            "prompt": p,
            "obj1": o1,
            "obj2": o2,
            "relation": loc or "",
            "prompt_index": i,
            "image_index": k,
        }

    def _scan(self, rows: Any) -> dict[str, list[dict[str, Any]]]:
        """Files ``{prompt}_{counter:06}.png`` under DIR/samples (or DIR), as the evaluator."""
        assert self.samples is not None
        base = self.samples / "samples" if (self.samples / "samples").is_dir() else self.samples
        prefix = "samples/" if base != self.samples else ""
        found: dict[str, list[tuple[int, str]]] = {}
        for path in base.glob("*.png"):
            m = re.fullmatch(r"(.+)_(\d+)\.png", path.name)
            if m:
                found.setdefault(m.group(1).split("_")[0], []).append((int(m.group(2)), path.name))
        groups = {}
        for i, (p, o1, o2, loc) in enumerate(rows):
            files = sorted(found.get(p, []))
            if files:
                groups[p] = [
                    dict(
                        self._item(i, p, o1, o2, loc, k, c), file=prefix + name, sample_id=name[:-4]
                    )
                    for k, (c, name) in enumerate(files)
                ]
            else:  # no file at all: reported as missing by keep_present
                groups[p] = [self._item(i, p, o1, o2, loc, 0, i * 10)]
        return groups

    def judge(
        self, item: dict[str, Any], dets: dict[str, np.ndarray], size: tuple[int, int]
    ) -> dict[str, Any]:
        v = rules.t2i_verdict(
            item["obj1"],
            item["obj2"],
            item["relation"] or None,
            dets,
            size,
            self.protocol,
            where=f"image {item['sample_id']!r}: ",
        )
        return v.record()

    def summarize_rule(self, records: pd.DataFrame, state: Any) -> list[MetricValue]:
        df = records.drop_duplicates("sample_id", keep="last")
        return [metric("t2i_spatial", df["t2i_score"].astype(float).mean(), len(df), self)]


class GenevalPosition(SpatialBenchmark):
    official_detector = "mask2former"
    verdict = "geneval_correct"
    images_per_prompt = 4

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        rows = prompts.geneval_position_prompts()
        self.meta = {r["index"]: {k: v for k, v in r.items() if k != "index"} for r in rows}
        groups = {}
        for r in rows:
            target = next(c for c in r["include"] if "position" in c)
            anchor = r["include"][target["position"][1]]
            groups[r["index"]] = [
                {
                    "sample_id": f"{r['index']:05d}_{k}",
                    "file": f"{r['index']:05d}/samples/{k:05d}.png",
                    "prompt": r["prompt"],
                    "obj1": target["class"],
                    "obj2": anchor["class"],
                    "relation": target["position"][0],
                    "prompt_index": r["index"],
                    "image_index": k,
                }
                for k in range(self.images_per_prompt)
            ]
        self.spec = spec_for(
            "geneval-position",
            "GenEval position (100 prompts x 4 images)",
            ("position",),
            self.base_options(),
            len(rows),
        )
        self.folder_metadata = [] if self.samples is None else self._read_folders(groups)
        self.keep_present(groups, "prompt")

    def _read_folders(self, groups: dict[int, list[dict[str, Any]]]) -> list[Any]:
        """GenEval's names, ``<index>/samples/<k:05>.png`` (its generation script's and our
        ``geneval``'s), or the 4-digit ``<k:04>.png`` older evalkit runs wrote; each folder's
        ``metadata.jsonl``, when present, must be its prompt's."""
        from evalkit.benchmarks.geneval.layout import check_folder_metadata
        from evalkit.benchmarks.samplefiles import require_folder

        root = require_folder(self.samples, self.spec.name)  # type: ignore[arg-type]
        metadata = []
        for index, group in groups.items():
            folder = root / f"{index:05d}"
            if (folder / "metadata.jsonl").is_file():
                metadata.append(check_folder_metadata(folder, self.meta[index]))
            for item in group:
                k = item["image_index"]
                official, legacy = folder / f"samples/{k:05d}.png", folder / f"samples/{k:04d}.png"
                if legacy.is_file() and official.is_file():
                    raise InputFileError(
                        f"geneval-position: {official} and {legacy} are both image {k} of "
                        f"prompt {index}; keep one"
                    )
                if legacy.is_file():
                    item["file"] = legacy.relative_to(root).as_posix()
        return metadata

    def metadata_files(self) -> list[Any]:
        return self.folder_metadata

    def prepare_run_dir(self, run_dir: Any) -> None:
        import json

        super().prepare_run_dir(run_dir)
        for index, meta in self.meta.items():
            folder = run_dir / f"{index:05d}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "metadata.jsonl").write_text(json.dumps(meta) + "\n")

    def judge(
        self, item: dict[str, Any], dets: dict[str, np.ndarray], size: tuple[int, int]
    ) -> dict[str, Any]:
        return position_verdict(self.meta[item["prompt_index"]], dets).record()

    def summarize_rule(self, records: pd.DataFrame, state: Any) -> list[MetricValue]:
        df = records.drop_duplicates("sample_id", keep="last")
        return [metric("position", df["geneval_correct"].astype(float).mean(), len(df), self)]


COMMON = {"detector", "samples", "allow_missing", "overlays", "scores"}
ALLOWED = {
    "visor": COMMON | {"prompts", "visor_n"},
    "t2i-compbench-spatial": COMMON | {"protocol"},
    "geneval-position": COMMON,
    "spatial-compare": COMMON | {"labels", "protocol"},
}


def build(name: str, **options: Any) -> SpatialBenchmark:
    """Factory for the catalog (one entry per benchmark id)."""
    options.pop("resolution", None)  # images are scored at their own size
    unknown = set(options) - ALLOWED.get(name, set())
    if name not in ALLOWED:
        raise ValueError(f"unknown spatial benchmark {name!r}")
    if unknown:
        raise ValueError(
            f"{name}: unknown option(s) {sorted(unknown)}; allowed: {sorted(ALLOWED[name])}"
        )
    kw = {
        "detector": options.get("detector"),
        "samples": options.get("samples"),
        "allow_missing": as_bool(options.get("allow_missing", False), "allow_missing"),
        "overlays": as_bool(options.get("overlays", False), "overlays"),
        "scores": options.get("scores") or "",
    }
    if name == "visor":
        n = options.get("prompts")
        n = None if n in (None, "all") else int(n)
        return Visor(n, str(options.get("visor_n", "script")), **kw)
    if name == "t2i-compbench-spatial":
        return T2ISpatial(str(options.get("protocol", "official")), **kw)
    if name == "geneval-position":
        return GenevalPosition(**kw)
    from evalkit.benchmarks.spatial.compare import SpatialCompare

    return SpatialCompare(options.get("labels"), str(options.get("protocol", "official")), **kw)
