"""DetailMaster: the official evaluation scripts run on synthetic images with scripted judges, and
lmdeploy's decoding and image preprocessing for Qwen2.5-VL, from the lmdeploy package itself.

    python scripts/record_official_fixtures.py detailmaster --official DIR \
        --lmdeploy-site ERA_TRANSFORMERS_DIR LMDEPLOY_DIR --mini DetailMaster_mini_benchmark.json

``--official``: a checkout of modelscope/data-juicer, branch DetailMaster (its
``evaluation_pipeline/`` is run as is, in a subprocess). ``--lmdeploy-site``: folders put first on
PYTHONPATH for the lmdeploy probe: ``pip install --no-deps --target LMDEPLOY_DIR lmdeploy==0.8.0
mmengine-lite addict termcolor yapf shortuuid qwen-vl-utils==0.0.11`` and ``pip install --no-deps
--target ERA_TRANSFORMERS_DIR transformers==4.51.3 tokenizers==0.21.1 huggingface_hub==0.30.2``
(lmdeploy 0.8.0 does not import with transformers 5). lmdeploy is only imported: its engines need
CUDA, so no model runs.

Evaluation (``tests/fixtures/detailmaster_official_eval.json``): ``eval_process.py`` and
``eval_process_mini.py`` run with stand-in ``lmdeploy``, ``ultralytics`` and ``transformers``
modules whose Qwen, YOLOE and BLIP calls answer from evalkit's seeded
:class:`~evalkit.benchmarks.detailmaster.scripted.ScriptedJudge` (the script
``-O judge=scripted`` replays), then ``cal_eval.py`` / ``cal_eval_mini.py``. Two input sets:
the mini file's 800 records with one image per record (the official generation's layout: 1,162
record-image judgements), and 60 records of many shapes (``tests.detailmaster.helpers.
random_records``) with pooled images. Recorded: every record-image state of
``*_detail_score.json`` (condensed, see ``condense``), the ``*_overall_eval.json`` counts, the
``cal_eval`` accuracies, and digests of the questions asked.

lmdeploy (``tests/fixtures/detailmaster_lmdeploy.json``): ``GenerationConfig()`` and the
configuration ``AsyncEngine.generate`` derives from it (as ``pipe((prompt, image))`` runs it) for
two random Qwen2.5-VL checkpoints, one whose ``generation_config.json`` asks for sampling and
penalties; the Qwen2.5-VL preprocessing (``Qwen2VLModel.preprocess``) of real photos and crops;
whether ``lmdeploy.vl.load_image`` equals ``Image.open(path).convert("RGB")``.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from official_fixtures.common import FIXTURES, git_head, versions

REPO = Path(__file__).resolve().parents[2]
SEED = 3  # the scripted judge's seed
IMAGE_LOW, IMAGE_SPAN = 60, 200  # synthetic image sides, px: Qwen's frame scale varies with them
# Like Qwen2.5-VL-7B-Instruct's generation_config.json: sampling and a repetition penalty.
SAMPLING_GENERATION_CONFIG = {
    "do_sample": True,
    "temperature": 0.1,
    "top_p": 0.001,
    "top_k": 1,
    "repetition_penalty": 1.05,
    "no_repeat_ngram_size": 3,
    "max_new_tokens": 7,
}
WORDS = ("yes", "no", "dog")  # the random checkpoints' extra vocabulary

# --- stand-in modules for the official scripts (written to a temporary folder) ------------------

_SCRIPT = '''
"""The seeded script every stand-in answers from, and a log of the calls."""
import json, os
from evalkit.benchmarks.detailmaster.scripted import ScriptedJudge, fingerprint

JUDGE = ScriptedJudge(seed=int(os.environ["DM_SEED"]))
_LOG = open(os.environ["DM_CALLS"], "a", encoding="utf-8")
_NOTES = os.environ["DM_NOTES"]


def answer(kind, image, text):
    got = {"detect": JUDGE.detect, "ask": JUDGE.ask, "match": JUDGE.match}[kind](image, text)
    _LOG.write(json.dumps([kind, fingerprint(image), text, got]) + "\\n")
    _LOG.flush()
    return got


def note(name, value):
    notes = json.load(open(_NOTES)) if os.path.exists(_NOTES) else {}
    notes.setdefault(name, value)
    json.dump(notes, open(_NOTES, "w"))
'''

_LMDEPLOY = '''
"""Stand-in lmdeploy: the pipeline answers from the script; its call signature is noted."""
from dm_script import answer, note


class TurbomindEngineConfig:
    def __init__(self, **kwargs):
        self.kwargs = kwargs


class GenerationConfig:
    def __init__(self, **kwargs):
        self.kwargs = kwargs


class _Response:
    def __init__(self, text):
        self.text = text


class _Pipeline:
    def __call__(self, prompts, *args, **kwargs):
        note("pipeline_call", {"positional_args": len(args), "keywords": sorted(kwargs)})
        prompt, image = prompts
        return _Response(answer("ask", image, prompt))


def pipeline(model_path, *args, backend_config=None, **kwargs):
    config = None if backend_config is None else backend_config.kwargs
    note("pipeline_" + str(len(args)), {"backend_config": config, "keywords": sorted(kwargs)})
    return _Pipeline()
'''

_LMDEPLOY_VL = '''
"""Stand-in lmdeploy.vl: load_image as lmdeploy 0.8.0's for a local path (open, convert RGB)."""
from PIL import Image


def load_image(path):
    return Image.open(path).convert("RGB")
'''

_ULTRALYTICS = '''
"""Stand-in ultralytics: YOLOE's top box for the one class set, from the script."""
from PIL import Image

from dm_script import answer


class _Column:
    def __init__(self, rows):
        self.rows = rows

    def tolist(self):
        return self.rows


class _Boxes:
    def __init__(self, rows):
        self.xyxy = _Column(rows)


class _Result:
    def __init__(self, rows):
        self.boxes = _Boxes(rows)


class YOLOE:
    def __init__(self, path):
        self.names = None

    def get_text_pe(self, names):
        return list(names)

    def set_classes(self, names, embeddings):
        self.names = list(names)

    def predict(self, source, verbose=True):
        with Image.open(source) as im:
            rgb = im.convert("RGB")
        box = answer("detect", rgb, self.names[0])
        return [_Result([] if box is None else [list(box)])]
'''

_TRANSFORMERS = '''
"""Stand-in transformers: BLIP's processor and ITM model answer from the script (the official
code never gets this far; the notes say whether it did)."""
from dm_script import answer, note


class BlipProcessor:
    @classmethod
    def from_pretrained(cls, path, **kwargs):
        return cls()

    def __call__(self, images, texts, **kwargs):
        note("blip_called", True)
        return _Inputs(images, texts)


class _Inputs(dict):
    def __init__(self, images, texts):
        super().__init__(pixel_values=images, input_ids=texts, attention_mask=None)

    def to(self, device):
        return self


class _Output:
    def __init__(self, scores):
        self.itm_score = scores


class BlipForImageTextRetrieval:
    device = "cpu"

    @classmethod
    def from_pretrained(cls, path, **kwargs):
        return cls()

    def __call__(self, pixel_values, input_ids, attention_mask=None, use_itm_head=True):
        return _Output([answer("match", im, input_ids[0]) for im in pixel_values])
'''

STUBS = {
    "dm_script.py": _SCRIPT,
    "lmdeploy/__init__.py": _LMDEPLOY,
    "lmdeploy/vl/__init__.py": _LMDEPLOY_VL,
    "ultralytics/__init__.py": _ULTRALYTICS,
    "transformers/__init__.py": _TRANSFORMERS,
}

# --- lmdeploy's decoding, from the package itself ---------------------------------------------

_DECODING_PROBE = '''
import asyncio, dataclasses, json, sys
from PIL import Image
import lmdeploy
from lmdeploy import GenerationConfig
from lmdeploy.model import ChatTemplateConfig
from lmdeploy.serve.async_engine import AsyncEngine, get_names_from_model
from lmdeploy.tokenizer import Tokenizer
from lmdeploy.utils import _stop_words, get_hf_gen_cfg
from lmdeploy.vl import load_image


class Captured(Exception):
    pass


def fields(cfg):
    return {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg)}


def effective(folder):
    """AsyncEngine.generate (lmdeploy 0.8.0) up to the point where it logs the request: the
    GenerationConfig the engine then runs, from GenerationConfig() as pipe(...) passes it."""
    engine = AsyncEngine.__new__(AsyncEngine)
    _, template_name = get_names_from_model(folder)
    template = ChatTemplateConfig(template_name).chat_template
    engine.tokenizer = Tokenizer(folder)
    engine.hf_gen_cfg = get_hf_gen_cfg(folder)
    stops = _stop_words(template.stop_words, engine.tokenizer)
    engine.stop_words = None if stops is None else stops[0][0].tolist()
    engine.id2step = {}
    seen = {}

    class Logger:
        def log_prompt(self, *args, **kwargs):
            pass

        def log_inputs(self, *args, gen_config=None, **kwargs):
            seen["config"] = gen_config
            raise Captured

    async def prompt_input(*args, **kwargs):
        return {"prompt": "x", "input_ids": [0, 1]}

    engine.request_logger = Logger()
    engine._get_prompt_input = prompt_input

    async def run():
        try:
            async for _ in engine.generate([{"role": "user", "content": "x"}], 0,
                                           gen_config=GenerationConfig()):
                pass
        except Captured:
            pass

    asyncio.run(run())
    cfg = fields(seen["config"])
    tok = engine.tokenizer.model.model
    cfg["stop_token_ids"] = sorted(tok.convert_ids_to_tokens(i) for i in cfg["stop_token_ids"])
    return {"chat_template": template_name, "template_stop_words": template.stop_words,
            "effective": cfg}


def preprocessed(folder, path):
    """lmdeploy's Qwen2.5-VL preprocessing of pipe((prompt, image)): prompt_to_messages, the
    PIL conversion, Qwen2VLModel.preprocess (qwen-vl-utils' fetch_image, then the checkpoint's
    image processor). Returns the image handed to the processor and pixel_values statistics."""
    import hashlib
    import numpy as np
    import qwen_vl_utils
    from lmdeploy.serve.vl_async_engine import VLAsyncEngine
    from lmdeploy.vl.model.qwen2 import Qwen2VLModel

    fetched = {}
    original = qwen_vl_utils.process_vision_info

    def spy(*args, **kwargs):
        images, videos = original(*args, **kwargs)
        fetched["image"] = images[0]
        return images, videos

    qwen_vl_utils.process_vision_info = spy
    model = Qwen2VLModel(folder, with_llm=False)
    model.build_preprocessor()
    image = Image.open(path)
    messages = VLAsyncEngine.prompt_to_messages(("question", image))
    messages = asyncio.run(VLAsyncEngine.async_convert_to_pil_images(messages))
    out = model.preprocess(messages)[-1]["content"][0]
    qwen_vl_utils.process_vision_info = original
    pixels = out["pixel_values"].numpy().astype(np.float64)
    t, h, w = (int(v) for v in out["image_grid_thw"][0])
    seen = fetched["image"]
    return {
        "image_size": list(image.size),
        "mode": image.mode,
        "frame": [w * 14, h * 14],
        "processor_input": {"mode": seen.mode, "size": list(seen.size),
                            "sha256": hashlib.sha256(seen.tobytes()).hexdigest()},
        "image_processor": type(model.processor.image_processor).__name__,
        "pixel_values_shape": list(pixels.shape),
        "pixel_sum": float(pixels.sum()),
        "pixel_sumsq": float((pixels ** 2).sum()),
        "pixel_sample": [round(float(v), 6) for v in pixels.ravel()[::997]],
    }


def same_as_convert_rgb(path):
    a, b = load_image(path), Image.open(path).convert("RGB")
    return a.mode == b.mode and a.size == b.size and a.tobytes() == b.tobytes()


folders, images, photos = json.loads(sys.argv[1])
import transformers
out = {
    "lmdeploy": lmdeploy.__version__,
    "transformers": transformers.__version__,
    "preprocessing": {name: preprocessed(folders["plain"], p) for name, p in photos.items()},
    "defaults": fields(GenerationConfig()),
    "checkpoints": {name: effective(f) for name, f in folders.items()},
    "load_image_equals_convert_rgb": {mode: same_as_convert_rgb(p) for mode, p in images.items()},
}
print(json.dumps(out, default=repr))
'''


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--official", type=Path, required=True, help="data-juicer DetailMaster checkout")
    p.add_argument(
        "--lmdeploy-site",
        type=Path,
        nargs="+",
        required=True,
        help="folders put first on PYTHONPATH: lmdeploy 0.8.0 and its pure-Python imports, "
        "qwen-vl-utils, and the transformers of its time (4.51.3, tokenizers, huggingface_hub)",
    )
    p.add_argument("--mini", type=Path, required=True, help="DetailMaster_mini_benchmark.json")
    p.add_argument("--commit", help="commit of the checkout when it is not a git folder")


def record(a: argparse.Namespace) -> Path:
    sys.path.insert(0, str(REPO))
    with tempfile.TemporaryDirectory(prefix="dm-official-") as tmp:
        decoding = record_decoding(a.lmdeploy_site, Path(tmp))
        print(decoding, file=sys.stderr)
        return record_eval(a.official, a.commit or git_head(a.official), a.mini, Path(tmp))


# --- decoding -------------------------------------------------------------------------------


def record_decoding(sites: list[Path], work: Path) -> Path:
    from PIL import Image

    from evalkit.judges.qwen_random import save_random_checkpoint

    folders = {
        "plain": save_random_checkpoint(work / "qwen2.5-vl-tiny-plain", words=WORDS),
        "sampling": save_random_checkpoint(
            work / "qwen2.5-vl-tiny-sampling", SAMPLING_GENERATION_CONFIG, words=WORDS
        ),
    }
    images = {}
    for mode in ("RGB", "RGBA", "L"):
        path = work / f"load_{mode}.png"
        Image.effect_noise((37, 23), 60).convert(mode).save(path)
        images[mode] = str(path)
    from tests.detailmaster.helpers import preprocessing_photos

    photos = {}
    for name, image in preprocessing_photos().items():
        photos[name] = str(work / f"photo_{name}.png")
        image.save(photos[name])
    arg = json.dumps([{k: str(v) for k, v in folders.items()}, images, photos])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in sites)}
    printed = _python(["-c", _DECODING_PROBE, arg], env, work, "the lmdeploy probe")
    probe = json.loads(printed.strip().splitlines()[-1])
    generation_configs = {
        name: json.loads((folder / "generation_config.json").read_text())
        for name, folder in folders.items()
    }
    doc = {
        "_about": (
            "lmdeploy's decoding for DetailMaster's Qwen2.5-VL judge, recorded from the lmdeploy "
            f"{probe['lmdeploy']} package by scripts/record_official_fixtures.py detailmaster: "
            "'defaults' is GenerationConfig() (what pipe((prompt, image)) passes when, as in "
            "eval_process.py, no gen_config is given); 'checkpoints' holds, for two random "
            "Qwen2.5-VL checkpoints (evalkit.judges.qwen_random.save_random_checkpoint, seed 0, "
            "words 'checkpoint_words') "
            "with the given generation_config.json, the GenerationConfig that "
            "AsyncEngine.generate derives before running the request (stop tokens as token "
            "strings). 'preprocessing': lmdeploy's Qwen2VLModel.preprocess (prompt_to_messages, "
            "async_convert_to_pil_images, qwen-vl-utils' fetch_image, the 'plain' checkpoint's "
            "image processor under the transformers beside lmdeploy) of the photos of "
            "tests.detailmaster.helpers.preprocessing_photos(): the image handed to the image "
            "processor (sha256 of its bytes) and pixel_values (sum, sum of squares, every "
            "997th value). "
            "'load_image_equals_convert_rgb': lmdeploy.vl.load_image(path) is "
            "Image.open(path).convert('RGB'), pixel for pixel, for PNGs of each mode."
        ),
        "official_runtime": (
            f"lmdeploy {probe['lmdeploy']} (PyPI wheel, imported; no engine) with "
            f"transformers {probe['transformers']} and qwen-vl-utils 0.0.11"
        ),
        "command": (
            "python scripts/record_official_fixtures.py detailmaster --official <data-juicer "
            "checkout> --lmdeploy-site <transformers 4.51.3 folder> <lmdeploy 0.8.0 folder> "
            "--mini <mini json>"
        ),
        "versions": versions("pillow", "numpy")
        | {"lmdeploy": probe["lmdeploy"], "transformers (beside lmdeploy)": probe["transformers"]},
        "preprocessing": probe["preprocessing"],
        "checkpoint_words": list(WORDS),
        "defaults": probe["defaults"],
        "checkpoints": {
            name: {"generation_config_json": generation_configs[name], **probe["checkpoints"][name]}
            for name in folders
        },
        "load_image_equals_convert_rgb": probe["load_image_equals_convert_rgb"],
    }
    path = FIXTURES / "detailmaster_lmdeploy.json"
    path.write_text(json.dumps(doc, indent=1) + "\n")
    return path


# --- evaluation -----------------------------------------------------------------------------


def condense(entry: dict[str, Any]) -> dict[str, Any]:
    """One record-image state of ``*_detail_score.json`` in the form the tests compare: counts
    [all, success] per dimension, per class [all, success, detected] and each character's
    attribute scores as a bit string (zero counts and empty strings dropped; the prompt record
    itself is left out, the index names it)."""
    attr_all = entry.get("character_attribute_all", {})
    attr_ok = entry.get("character_attribute_success", {})
    attr_det = entry.get("detected_character_s_attribute_num", {})
    attributes = {
        cls: [attr_all.get(cls, 0), attr_ok.get(cls, 0), attr_det.get(cls, 0)]
        for cls in sorted(set(attr_all) | set(attr_ok) | set(attr_det))
    }
    scores = {
        c["main_character"]: "".join(str(a["score"]) for a in c["attributes_list"])
        for c in entry.get("character_attributes_detail_score", [])
    }
    scene_all = entry.get("scene_attributes_all", {})
    scene_ok = entry.get("scene_attributes_success", {})
    return {
        "presence": [entry.get("object_presence_all", 0), entry.get("object_presence_success", 0)],
        "attributes": {k: v for k, v in attributes.items() if any(v)},
        "attribute_scores": {k: v for k, v in sorted(scores.items()) if v},
        "locations": [
            entry.get("character_location_all", 0),
            entry.get("character_location_success", 0),
        ],
        "scene": {k: [n, scene_ok.get(k, 0)] for k, n in sorted(scene_all.items()) if n},
    }


def _digest(lines: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()


def _inputs(name: str, mini_file: Path) -> tuple[list[dict[str, Any]], dict[str, list[Any]]]:
    from tests.detailmaster.helpers import per_record_images, random_records, synthetic_images

    if name == "mini":
        records = json.loads(mini_file.read_text())
        return records, per_record_images(records, IMAGE_LOW, IMAGE_SPAN)
    records = random_records()
    return records, synthetic_images(records, pooled_every=3, low=IMAGE_LOW, span=IMAGE_SPAN)


def _python(args: list[str], env: dict[str, str], cwd: Path, what: str) -> str:
    """Run this Python on ``args`` in a subprocess; its stdout, or an error with its stderr."""
    done = subprocess.run(
        [sys.executable, *args], env=env, cwd=cwd, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise RuntimeError(f"{what} failed:\n{done.stderr[-4000:]}")
    return done.stdout


def _run_official(
    official: Path, script: str, args: list[str], env: dict[str, str], cwd: Path
) -> str:
    return _python([str(official / "evaluation_pipeline" / script), *args], env, cwd, script)


def _one_case(official: Path, name: str, mode: str, mini_file: Path, work: Path) -> dict:
    from evalkit.benchmarks.detailmaster.scripted import fingerprint

    records, images = _inputs(name, mini_file)
    case = work / f"{name}-{mode}"
    folder, out = case / "images", case / "out"
    folder.mkdir(parents=True)
    out.mkdir()
    info, names = [], {}
    for key, ims in images.items():
        for k, im in enumerate(ims):
            file = f"{key.replace('/', '_')}__{k}.png"
            im.save(folder / file)
            info.append({"image_id": key, "output_image_name": file})
            names[file] = k
    (case / "records.json").write_text(json.dumps(records))
    (case / "image_info.json").write_text(json.dumps(info))
    stubs = case / "stubs"
    for rel, text in STUBS.items():
        (stubs / rel).parent.mkdir(parents=True, exist_ok=True)
        (stubs / rel).write_text(text.lstrip())
    calls, notes = case / "calls.jsonl", case / "notes.json"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(stubs), str(REPO)]),
        "DM_SEED": str(SEED),
        "DM_CALLS": str(calls),
        "DM_NOTES": str(notes),
    }
    mini = mode == "mini"
    script = "eval_mini_benchmark/eval_process_mini.py" if mini else "eval_process.py"
    _run_official(
        official,
        script,
        [
            "--ann_json_path",
            str(case / "records.json"),
            "--image_folder",
            str(folder),
            "--image_info_json",
            str(case / "image_info.json"),
            "--output_log_dir",
            str(out),
            "--output_name_prefix",
            "fx",
        ],
        env,
        case,
    )
    cal = "eval_mini_benchmark/cal_eval_mini.py" if mini else "cal_eval.py"
    try:
        printed = _run_official(
            official,
            cal,
            ["--eval_output_log_dir_name", str(out), "--name_prefix", "fx"],
            env,
            case,
        )
        cal_eval: Any = ast.literal_eval(printed.strip().splitlines()[-1])
    except RuntimeError as exc:
        cal_eval = {"error": str(exc).strip().splitlines()[-1]}
    (overall,) = [json.loads(p.read_text()) for p in out.glob("fx*overall_eval.json")]
    (states,) = [json.loads(p.read_text()) for p in out.glob("fx*detail_score.json")]
    order = [
        (i, f["output_image_name"])
        for i, r in enumerate(records)
        for f in info
        if f["image_id"] == f"{r['dataset_target']}_{r['image_id']}"
    ]
    if [s["temp_image_name"] for s in states] != [file for _, file in order]:
        raise RuntimeError(f"{name}/{mode}: the official states are not in record/image order")
    entries = [
        {"record": i, "image": names[file], **condense(s)} for (i, file), s in zip(order, states)
    ]
    logged = [json.loads(line) for line in calls.read_text().splitlines()]
    keys = sorted({f"{k}|{fp}|{text}" for k, fp, text, _ in logged})
    answers = sorted({json.dumps([k, fp, text, a]) for k, fp, text, a in logged})
    kinds: dict[str, int] = {}
    for k, *_ in logged:
        kinds[k] = kinds.get(k, 0) + 1
    return {
        "records_sha256": hashlib.sha256(json.dumps(records).encode()).hexdigest(),
        "images_sha256": _digest(
            [f"{k}|{fingerprint(im)}" for k, ims in images.items() for im in ims]
        ),
        "judgements": len(states),
        "calls": kinds,
        "distinct_questions": len(keys),
        "questions_sha256": _digest(keys),
        "answers_sha256": _digest(answers),
        "notes": json.loads(notes.read_text()) if notes.exists() else {},
        "overall": overall,
        "cal_eval": cal_eval,
        "states": entries,
    }


def record_eval(official: Path, commit: str, mini_file: Path, work: Path) -> Path:
    cases = {}
    for name in ("mini", "shapes"):
        for mode in ("full", "mini"):
            cases[f"{name}/{mode}"] = _one_case(official, name, mode, mini_file, work)
            print(
                f"{name}/{mode}: {cases[f'{name}/{mode}']['judgements']} judgements",
                file=sys.stderr,
            )
    doc = {
        "_about": (
            "Outputs of the official DetailMaster evaluation (evaluation_pipeline/eval_process.py "
            "or eval_mini_benchmark/eval_process_mini.py, then cal_eval.py / cal_eval_mini.py, "
            "run unmodified in a subprocess) with stand-in lmdeploy / ultralytics / transformers "
            "modules whose Qwen2.5-VL, YOLOE and BLIP calls answer from evalkit's "
            f"ScriptedJudge(seed={SEED}). Cases: 'mini' = the 800 records of "
            "DetailMaster_mini_benchmark.json, one synthetic image per record (the official "
            "generation's layout); 'shapes' = tests.detailmaster.helpers.random_records() with "
            "synthetic_images(pooled_every=3); images are tests.detailmaster.helpers."
            f"synthetic_image(key, k, low={IMAGE_LOW}, span={IMAGE_SPAN}) saved as PNG; mode "
            "'full' runs eval_process.py, 'mini' eval_process_mini.py. 'states': every "
            "record-image state of *_detail_score.json in its order, condensed by "
            "scripts/official_fixtures/detailmaster.py:condense; 'overall': *_overall_eval.json; "
            "'cal_eval': the accuracies cal_eval printed (or its error); 'questions_sha256': "
            "sha256 of the sorted distinct 'kind|image fingerprint|text' of every judge call; "
            "'answers_sha256': idem with the answers; 'notes': how the stand-ins were called."
        ),
        "source_repo": "https://github.com/modelscope/data-juicer (branch DetailMaster)",
        "source_commit": commit,
        "command": (
            "python scripts/record_official_fixtures.py detailmaster --official <data-juicer "
            "checkout> --lmdeploy-site <transformers 4.51.3 folder> <lmdeploy 0.8.0 folder> "
            "--mini <mini json>"
        ),
        "versions": versions("pillow", "numpy", "torch"),
        "seed": SEED,
        "image_size": {"low": IMAGE_LOW, "span": IMAGE_SPAN},
        "cases": cases,
    }
    path = FIXTURES / "detailmaster_official_eval.json"
    path.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    return path
