"""What the local Hub serves: repositories laid out like the real ones, with seeded random weights.

Every builder is deterministic (fixed seeds). Weights are random initialisations: of small configs
where the loader accepts any (the diffusers VAE, the t2i pipeline, the recognition ONNX), of the
real architecture where the loader insists on it (docTR PARSeq 23.8 M parameters; TiTok-L-32,
641 M parameters, only in the slow test).
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np

from evalkit.benchmarks.tokbench import data as tbdata
from evalkit.models import titok
from evalkit.models import vae as vae_mod

ANTELOPE_MEMBERS = ("1k3d68.onnx", "2d106det.onnx", "genderage.onnx", "glintr100.onnx",
                    "scrfd_10g_bnkps.onnx")  # fmt: skip
DOCTR = "https://doctr-static.mindee.com/"
GITHUB = "https://github.com/"


def safetensors_bytes(state: dict) -> bytes:
    from safetensors.torch import save

    return save({k: v.contiguous() for k, v in state.items()})


def tiny_vae_repo(model_id: str = "sd-ft-mse-vae") -> dict[str, bytes]:
    """config.json + diffusion_pytorch_model.safetensors of a small AutoencoderKL (/8 like the
    real one) with the card's scaling factor."""
    import torch
    from diffusers import AutoencoderKL

    v = vae_mod.VARIANTS[model_id]
    config = dict(
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 4,
        up_block_types=["UpDecoderBlock2D"] * 4,
        block_out_channels=[8, 8, 8, 8],
        layers_per_block=1,
        latent_channels=v.latent_channels,
        norm_num_groups=8,
        sample_size=32,
        scaling_factor=v.scaling_factor,
    )
    torch.manual_seed(0)
    net = AutoencoderKL(**config)
    cfg = {"_class_name": "AutoencoderKL", "_diffusers_version": "0.42.1", **config}
    prefix = f"{v.subfolder}/" if v.subfolder else ""
    return {
        f"{prefix}config.json": json.dumps(cfg, indent=2).encode(),
        f"{prefix}diffusion_pytorch_model.safetensors": safetensors_bytes(net.state_dict()),
    }


def titok_repo(model_id: str, folder: Path) -> dict[str, bytes | Path]:
    """model.safetensors of the real architecture (seeded random init) plus the mixin's files."""
    import torch
    from safetensors.torch import save_file

    from evalkit.models.titok_arch import TiTokNet

    torch.manual_seed(0)
    net = TiTokNet(titok.VARIANTS[model_id].config)
    path = folder / f"{model_id}.safetensors"
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))
    return {
        "model.safetensors": path,
        "config.json": b'{"fixture": "seeded random weights of the real architecture"}\n',
        "README.md": b"---\nlicense: mit\n---\n",
    }


def parseq_bytes() -> bytes:
    """docTR PARSeq (vocab french, 32 x 128) random weights, as torch.save writes them."""
    import torch
    from doctr.datasets import VOCABS
    from doctr.models import recognition

    torch.manual_seed(0)
    model = recognition.parseq(pretrained=False, input_shape=(3, 32, 128), vocab=VOCABS["french"])
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    return buf.getvalue()


def recognition_onnx() -> bytes:
    """A tiny face-recognition network with insightface's interface: (N,3,112,112) -> (N,512)."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.normal(0, 0.1, (8, 3, 8, 8)).astype(np.float32), "w")
    fc = numpy_helper.from_array(rng.normal(0, 0.1, (8, 512)).astype(np.float32), "fc")
    nodes = [
        helper.make_node("Conv", ["input.1", "w"], ["c"], strides=[8, 8], name="Conv_0"),
        helper.make_node("Relu", ["c"], ["r"], name="Relu_1"),
        helper.make_node("GlobalAveragePool", ["r"], ["p"], name="Pool_2"),
        helper.make_node("Flatten", ["p"], ["f"], name="Flatten_3"),
        helper.make_node("MatMul", ["f", "fc"], ["683"], name="MatMul_4"),
    ]
    graph = helper.make_graph(
        nodes,
        "recognition",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, ["None", 3, 112, 112])],
        [helper.make_tensor_value_info("683", TensorProto.FLOAT, ["None", 512])],
        [w, fc],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model.SerializeToString()


def antelope_zip() -> bytes:
    """antelopev2.zip as the model zoo ships it: a top folder antelopev2/ with five networks."""
    net = recognition_onnx()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in ANTELOPE_MEMBERS:
            zf.writestr(f"antelopev2/{name}", net)
    return buf.getvalue()


def tokbench_dataset(work: Path) -> dict[str, bytes]:
    """A small TokBench in the card's Hub layout: every annotations file, images.zip."""
    from tests.tokbench.conftest import make_layout

    root = make_layout(work / "tokbench-src")  # text set 'syn' (2 images), one face
    syn = json.loads((root / "annotations" / "text_syn.json").read_text())
    files: dict[str, bytes] = {}
    for i, name in enumerate(tbdata.OFFICIAL_TEXT_SETS):
        images = syn[:1] if i == 0 else []  # one text image in the first set, the rest empty
        files[f"annotations/text_{name}.json"] = json.dumps(images).encode()
    files["annotations/face_meta.json"] = (root / "annotations" / "face_meta.json").read_bytes()
    buf = io.BytesIO()
    first = tbdata.OFFICIAL_TEXT_SETS[0]
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for img in syn[:1]:
            src = root / "images" / "text_data" / "syn" / img["file_name"]
            zf.write(src, f"images/text_data/{first}/{img['file_name']}")
        for p in sorted((root / "images" / "face_data").rglob("*")):
            if p.is_file():
                zf.write(p, f"images/{p.relative_to(root / 'images').as_posix()}")
    files["images.zip"] = buf.getvalue()
    return files


def tiny_sd15_repo(folder: Path) -> dict[str, bytes]:
    """A tiny StableDiffusionPipeline (safety checker and feature extractor included, as sd15's
    repository has them) saved by diffusers itself; the files its card declares, read back."""
    from diffusers import StableDiffusionPipeline
    from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker
    from transformers import CLIPConfig, CLIPImageProcessor

    from evalkit.models import t2i
    from tests.generators.tiny_pipeline import tiny_sd_pipeline

    base = tiny_sd_pipeline(folder)
    small = {"hidden_size": 32, "intermediate_size": 37, "num_attention_heads": 4,
             "num_hidden_layers": 2}  # fmt: skip
    config = CLIPConfig(
        text_config=small,
        vision_config={**small, "image_size": 32, "patch_size": 8},
        projection_dim=16,
    )
    pipe = StableDiffusionPipeline(
        **{
            k: v
            for k, v in base.components.items()
            if k not in ("safety_checker", "feature_extractor")
        },
        safety_checker=StableDiffusionSafetyChecker(config),
        feature_extractor=CLIPImageProcessor(size={"shortest_edge": 32}, crop_size=32),
        requires_safety_checker=True,
    )
    out = folder / "saved"
    pipe.save_pretrained(str(out), safe_serialization=True)
    # transformers 5 saves tokenizer.json; sd15's repository has the slow tokenizer's files
    special = {"bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>",
               "pad_token": "<|endoftext|>", "unk_token": "<|endoftext|>"}  # fmt: skip
    (out / "tokenizer" / "special_tokens_map.json").write_text(json.dumps(special))
    for name in ("vocab.json", "merges.txt"):  # what tiny_sd_pipeline built its tokenizer from
        (out / "tokenizer" / name).write_bytes((folder / name).read_bytes())
    return {name: (out / name).read_bytes() for name in t2i.VARIANTS["sd15"].files}
