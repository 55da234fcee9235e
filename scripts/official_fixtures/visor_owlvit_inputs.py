"""The model inputs of VISOR's notebook (its ``processor(text=texts, images=image)``) on the
images of the visor_owlvit fixture, with the transformers of the notebook's time.

    PYTHONPATH=<site with transformers==4.28.1 tokenizers==0.13.3 huggingface_hub==0.14.1> \\
    python scripts/record_official_fixtures.py visor_owlvit_inputs --images <store>/images/visor

Cheap (no model): the processor is ``OwlViTProcessor.from_pretrained`` on a folder with the Hub
repository's config, processor and tokenizer files as visor_owlvit records them; each image is
opened with PIL as the notebook's loading cell does (scikit-image photos saved as PNG first).
Records per image the sha256 of ``pixel_values`` (float32, C order), its shape and the token ids,
so that a default-suite test can check our preprocessing bitwise without running OWL-ViT.
Output: tests/fixtures/visor_owlvit_inputs_official.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
from pathlib import Path

import numpy as np

from official_fixtures.common import FIXTURES, versions, write_fixture
from official_fixtures.visor_owlvit import TRANSFORMERS, hub_files

NAME = "visor_owlvit_inputs_official"
QUERY = "a photo of a {}"  # the notebook's detection cell


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--images", type=Path, required=True, help="folder with cogview2/, dallemini/")


def record(a: argparse.Namespace) -> Path:
    import transformers
    from PIL import Image
    from skimage import data
    from transformers import OwlViTProcessor

    from evalkit.judges.random_weights import write_clip_bpe

    if transformers.__version__ != TRANSFORMERS:
        raise SystemExit(f"transformers {transformers.__version__} found; use {TRANSFORMERS}")
    work = Path(tempfile.mkdtemp(prefix="visor-owlvit-inputs-"))
    for name, doc in hub_files().items():
        (work / name).write_text(json.dumps(doc, indent=2) + "\n")
    write_clip_bpe(work)
    processor = OwlViTProcessor.from_pretrained(work)
    recorded = json.loads((FIXTURES / "visor_owlvit_official.json").read_text())
    images = []
    for group in recorded["groups"]:
        texts = [[QUERY.format(group["obj1"]), QUERY.format(group["obj2"])]]
        for about in group["images"]:
            if about["source"].startswith("skimage.data."):
                array = getattr(data, about["source"].removeprefix("skimage.data."))()
                array = np.ascontiguousarray(array[0] if isinstance(array, tuple) else array)
                path = work / about["file"]
                path.parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(array).save(path)
            else:
                path = a.images / about["file"]
            inputs = processor(text=texts, images=Image.open(path), return_tensors="pt")
            pixels = np.ascontiguousarray(inputs["pixel_values"].numpy(), np.float32)
            images.append(
                {
                    "file": about["file"],
                    "pixel_values_shape": list(pixels.shape),
                    "pixel_values_sha256": hashlib.sha256(pixels.tobytes()).hexdigest(),
                    "input_ids": inputs["input_ids"].tolist(),
                    "attention_mask": inputs["attention_mask"].tolist(),
                }
            )
    doc = {
        "_about": (
            "Model inputs of VISOR's notebook (text2image_realtime_evaluate.ipynb: processor("
            "text=texts, images=image, return_tensors='pt') on Image.open(path)) with "
            f"transformers {TRANSFORMERS} (PIL resize), for the images of "
            "visor_owlvit_official.json. Recorded by scripts/record_official_fixtures.py "
            "visor_owlvit_inputs; not written by hand."
        ),
        "source_repo": "https://github.com/microsoft/VISOR",
        "source_commit": recorded["source_commit"],
        "command": (
            "PYTHONPATH=<site: transformers==4.28.1 tokenizers==0.13.3 huggingface_hub==0.14.1> "
            "python scripts/record_official_fixtures.py visor_owlvit_inputs "
            "--images <store>/images/visor"
        ),
        "versions": versions("transformers", "tokenizers", "torch", "pillow", "numpy"),
        "images": images,
    }
    return write_fixture(NAME, doc, {})
