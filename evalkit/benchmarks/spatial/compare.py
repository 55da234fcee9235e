"""`spatial-compare`: one folder of images, one detector, three official spatial rules.

Each image has known (obj1, relation, obj2): from ``labels.csv`` (``file,obj1,relation,obj2``,
relation in VISOR's, GenEval's or T2I-CompBench's words) or from VISOR names
``<unique_id>_<k>.png`` (SR2D). Per image: VISOR's verdict (both found and ANY pair right),
GenEval's position verdict and T2I-CompBench's soft score (binary: survived the 0.5 cut). The run
reports each rule's score, the pairwise per-image agreement (and Cohen's kappa) and, with VISOR
names, VISOR's own table; it writes ``agreement.md`` and ``agreement.svg`` (2x2 confusions).
"""

from __future__ import annotations

import re
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evalkit.benchmarks.base import MetricValue
from evalkit.benchmarks.spatial import detectors, prompts, rules
from evalkit.benchmarks.spatial.base import VISOR_METRICS, SpatialBenchmark, _key, metric, spec_for
from evalkit.benchmarks.spatial.geneval_bridge import position_metadata, position_verdict

VERDICTS = {"visor": "visor_correct", "geneval": "geneval_correct", "t2i": "t2i_pass"}
# any rule's wording -> VISOR's
CANONICAL = {
    **{r: r for r in rules.VISOR_RELATIONS},
    **{v: k for k, v in rules.TO_GENEVAL.items()},
    **{v: k for k, v in rules.TO_T2I.items()},
}


class SpatialCompare(SpatialBenchmark):
    official_detector = "owlvit"
    unit = "image"  # a diagnostic: no fixed dataset (its card: never complete, never published)

    def __init__(self, labels: str | None, protocol: str, **kw: Any) -> None:
        super().__init__(**kw)
        if self.samples is None:
            raise ValueError(
                "spatial-compare scores a folder of images: --model samples:NAME -O samples=DIR"
            )
        if protocol not in rules.PROTOCOLS:
            raise ValueError(f"spatial-compare: protocol must be one of {rules.PROTOCOLS}")
        self.protocol = protocol
        self.visor_names = False
        self.items = self._read_labels(Path(labels) if labels else None)
        self.spec = spec_for(
            "spatial-compare",
            "VISOR, GenEval and T2I-CompBench on one folder",
            self._metrics(),
            {**self.base_options(), "labels": labels or "", "protocol": protocol},
            len(self.items),
        )  # a comparison, never a leaderboard number

    def sample_units(self) -> list[str]:
        return list(self.sample_ids())

    def _metrics(self) -> tuple[str, ...]:
        base = (
            "visor_correct",
            "geneval_position",
            "t2i_spatial",
            "t2i_pass",
            "agree_visor_geneval",
            "agree_visor_t2i",
            "agree_geneval_t2i",
        )
        return base + (VISOR_METRICS if self.visor_names else ())

    def _read_labels(self, labels: Path | None) -> list[dict[str, Any]]:
        from evalkit.benchmarks.samplefiles import (
            InputFileError,
            check_names,
            read_csv_rows,
            require_folder,
        )

        assert self.samples is not None
        require_folder(self.samples, "spatial-compare")
        path = labels or self.samples / "labels.csv"
        self.labels_file = path if labels is not None or path.is_file() else None
        items = []
        if self.labels_file is not None:
            rows = read_csv_rows(
                path, "spatial-compare: labels", ("file", "obj1", "relation", "obj2")
            )
            for i, (line, row) in enumerate(rows):
                rel = CANONICAL.get(row["relation"])
                if rel is None:
                    raise InputFileError(
                        f"{path}:{line}: relation {row['relation']!r} is none of "
                        f"{sorted(CANONICAL)}"
                    )
                file = row["file"]
                if not (self.samples / file).is_file():
                    raise InputFileError(f"{path}:{line}: no image {self.samples / file}")
                check_names(
                    [(f"{path}:{line}", row["obj1"]), (f"{path}:{line}", row["obj2"])],
                    detectors.vocabulary(self.detector_name),
                    f"the {self.detector_name} detector",
                )
                items.append(
                    {
                        "sample_id": Path(file).stem,
                        "file": file,
                        "prompt": f"{row['obj1']} {rel} {row['obj2']}",
                        "obj1": row["obj1"],
                        "obj2": row["obj2"],
                        "relation": rel,
                        "prompt_index": i,
                        "image_index": 0,
                        "unique_id": -1,
                    }
                )
            return items
        sr2d = prompts.sr2d()
        for file in sorted(self.samples.glob("*.png")):
            m = re.fullmatch(r"(\d+)_(\d+)\.png", file.name)
            if not m or int(m.group(1)) >= len(sr2d):
                continue
            p = sr2d[int(m.group(1))]
            if p.relation not in rules.VISOR_RELATIONS:
                continue
            items.append(
                {
                    "sample_id": file.stem,
                    "file": file.name,
                    "prompt": p.text,
                    "obj1": p.obj1,
                    "obj2": p.obj2,
                    "relation": p.relation,
                    "prompt_index": p.unique_id,
                    "image_index": int(m.group(2)),
                    "unique_id": p.unique_id,
                }
            )
        if not items:
            raise InputFileError(
                f"spatial-compare: {self.samples} has neither labels.csv "
                "(file,obj1,relation,obj2) nor VISOR-named images <unique_id>_<k>.png"
            )
        self.visor_names = True
        return items

    def metadata_files(self) -> list[Path]:
        return [] if self.labels_file is None else [self.labels_file]

    def judge(
        self, item: dict[str, Any], dets: dict[str, np.ndarray], size: tuple[int, int]
    ) -> dict[str, Any]:
        where = f"image {item['sample_id']!r}: "
        rel = item["relation"]
        rec: dict[str, Any] = {"unique_id": item["unique_id"]}
        rec.update(rules.visor_verdict(item["obj1"], item["obj2"], rel, dets, where=where).record())
        meta = position_metadata(item["obj1"], rules.TO_GENEVAL[rel], item["obj2"])
        rec.update(position_verdict(meta, dets).record())
        rec.update(
            rules.t2i_verdict(
                item["obj1"],
                item["obj2"],
                rules.TO_T2I[rel],
                dets,
                size,
                self.protocol,
                where=where,
            ).record()
        )
        return rec

    def summarize_rule(self, records: pd.DataFrame, state: Any) -> list[MetricValue]:
        df = records.drop_duplicates("sample_id", keep="last")
        n = len(df)
        out = [
            metric("visor_correct", df["visor_correct"].mean(), n, self),
            metric("geneval_position", df["geneval_correct"].mean(), n, self),
            metric("t2i_spatial", df["t2i_score"].astype(float).mean(), n, self),
            metric("t2i_pass", df["t2i_pass"].mean(), n, self),
        ]
        table = agreement(df)
        for a, b in combinations(VERDICTS, 2):
            out.append(metric(f"agree_{a}_{b}", table.loc[(a, b), "agreement"], n, self))
        if self.visor_names:
            v = rules.visor_summary(df)
            n_prompts = df["unique_id"].nunique()
            out += [
                metric(m, v[_key(m)], n_prompts if m[-1].isdigit() else n, self)
                for m in VISOR_METRICS
            ]
        if self.run_dir is not None:
            write_report(df, table, self.run_dir)
        return out


def agreement(df: pd.DataFrame) -> pd.DataFrame:
    """Pairwise agreement of the binary verdicts: rate, Cohen's kappa and the 2x2 counts."""
    rows = {}
    for a, b in combinations(VERDICTS, 2):
        x = df[VERDICTS[a]].astype(int).to_numpy()
        y = df[VERDICTS[b]].astype(int).to_numpy()
        counts = {f"{i}{j}": int(((x == i) & (y == j)).sum()) for i in (1, 0) for j in (1, 0)}
        po = float((x == y).mean()) if len(x) else float("nan")
        pe = float(x.mean() * y.mean() + (1 - x.mean()) * (1 - y.mean())) if len(x) else 0.0
        kappa = (po - pe) / (1 - pe) if pe < 1 else float("nan")
        rows[(a, b)] = {"agreement": po, "kappa": kappa, **counts}
    return pd.DataFrame.from_dict(rows, orient="index")


def write_report(df: pd.DataFrame, table: pd.DataFrame, run_dir: Path) -> None:
    """agreement.md (rates, kappa, counts) and agreement.svg (three 2x2 confusion matrices)."""
    from evalkit.cache import atomic_write

    lines = [
        "| rule A | rule B | agreement | kappa | both yes | A only | B only | both no |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (a, b), r in table.iterrows():
        lines.append(
            f"| {a} | {b} | {r['agreement']:.3f} | {r['kappa']:.3f} | {int(r['11'])} "
            f"| {int(r['10'])} | {int(r['01'])} | {int(r['00'])} |"
        )
    means = {k: float(df[v].mean()) for k, v in VERDICTS.items()}
    lines += [
        "",
        "Per-rule pass rates: " + ", ".join(f"{k} {v:.3f}" for k, v in means.items()),
        f"Images: {len(df)}",
    ]
    text = "\n".join(lines) + "\n"
    atomic_write(run_dir / "agreement.md", lambda t: Path(t).write_text(text))
    atomic_write(run_dir / "agreement.svg", lambda t: confusion_plot(table, t))


def confusion_plot(table: pd.DataFrame, path: Any) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(table), figsize=(3.2 * len(table), 3.2))
    for ax, ((a, b), r) in zip(np.atleast_1d(axes), table.iterrows()):
        m = np.array([[r["11"], r["10"]], [r["01"], r["00"]]], dtype=float)
        ax.imshow(m, cmap="Blues", vmin=0)
        for i in range(2):
            for j in range(2):
                ax.text(j, i, int(m[i, j]), ha="center", va="center")
        ax.set_xticks([0, 1], [f"{b} yes", f"{b} no"])
        ax.set_yticks([0, 1], [f"{a} yes", f"{a} no"])
        ax.set_title(f"{a} vs {b}: {r['agreement']:.2f} (k {r['kappa']:.2f})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, format="svg")
    plt.close(fig)
