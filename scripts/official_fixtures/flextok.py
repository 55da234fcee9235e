"""FlexTok: tokens and rectified-flow reconstructions from the official code of apple/ml-flextok
(``flextok.flextok_wrapper.FlexTok``: ``tokenize`` and ``detokenize`` as the README calls them)
with a seeded random checkpoint, plus the key names and shapes of the d18-d28 network.

    python scripts/record_official_fixtures.py flextok --official DIR [--commit SHA]

The repository ships no config: the released one lives in the checkpoint's safetensors metadata
and the Hub's config.json, neither readable here. ``official_model`` builds the official modules
(what hydra's ``instantiate`` of that config would build) from the settings in ``settings()``: the
step names and values that the code, the README and the paper fix, the rest inferred (listed in
evalkit.models.flextok). The parity network is that model narrowed (64 x 64 pixels, 2 blocks per
side, 32 registers, 2-3 heads of 32, a narrow VAE through the official ``VAE_BASE_CFG``) so the
default suite runs it on CPU. The official code needs hydra-core, einops, mup (installed with
``--target``, first on PYTHONPATH, beside the shared torch and diffusers). Attention: the code's
default ``flex_attention`` (compiled, runs on CPU with torch 2.14); the same checkpoint is also run
through the SDPA fallback of 87d00cc and the largest difference between the two is recorded.

The sampler's initial noise comes from ``torch.Generator().manual_seed(NOISE_SEED)`` as the
official ``detokenize(generator=...)`` draws it (one (1, 16, h, w) draw per image, in order); the
same draws are stored so our side starts from identical noise.
"""

from __future__ import annotations

import argparse
import sys
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from official_fixtures.common import FIXTURES, dump_compact, git_head, skimage_photo, versions

PARITY = {
    "image_size": 64,
    "vae_channels": [32, 32, 64, 64],
    "vae_layers_per_block": 1,
    "posemb_size": 4,
    "enc_dim": 64,
    "enc_depth": 2,
    "dec_dim": 96,
    "dec_depth": 2,
    "head_dim": 32,
    "num_registers": 32,
    "vae_scaling_factor": 0.75,
}
REAL = {"image_size": 256, "vae_channels": [128, 256, 512, 512], "vae_layers_per_block": 2}
REAL |= {"posemb_size": 16, "enc_dim": 1152, "enc_depth": 18, "dec_dim": 1792, "dec_depth": 28}
REAL |= {"head_dim": 64, "num_registers": 256, "vae_scaling_factor": 1.0}
SEED = 0
NOISE_SEED = 1234
PHOTO_NAMES = ("astronaut", "coffee")  # 512 x 512 and 400 x 600 (non-square)
BUDGETS = (1, 4, 32)
DECODE = {"timesteps": 4, "guidance_scale": 7.5, "perform_norm_guidance": True}
DECODE_CFG = {"timesteps": 3, "guidance_scale": 3.0, "perform_norm_guidance": False}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--official", type=Path, required=True, help="ml-flextok checkout")
    p.add_argument("--commit", help="commit of the checkout when it is not a git folder")
    p.add_argument(
        "--attention",
        choices=("flex", "sdpa"),
        default="flex",
        help="flex_attention (the default of the code) or its SDPA fallback (87d00cc)",
    )


def official_model(s: dict[str, Any], sdpa: bool, meta: bool = False) -> Any:  # noqa: ANN401
    """The official FlexTok from settings ``s`` (module_dict step names and keys as inferred);
    ``meta``: its networks on the meta device (names and shapes only, nothing allocated)."""
    import torch

    if not meta:
        return _official_model(s, sdpa)
    linspace = torch.linspace  # the official drop-path schedule calls .item(): keep it on CPU
    torch.linspace = lambda *args, **kw: linspace(*args, **{**kw, "device": "cpu"})
    try:
        with torch.device("meta"):
            return _official_model(s, sdpa, networks_only=True)
    finally:
        torch.linspace = linspace


def _official_model(s: dict[str, Any], sdpa: bool, networks_only: bool = False) -> Any:  # noqa: ANN401
    from flextok import vae_wrapper
    from flextok.flextok_wrapper import FlexTok
    from flextok.flow_matching.noise_modules import MinRFNoiseModule
    from flextok.flow_matching.pipelines import MinRFPipeline
    from flextok.model.postprocessors.heads import LinearHead, ToPatchesLinearHead
    from flextok.model.postprocessors.seq_unpacking import SequenceUnpacker
    from flextok.model.preprocessors.flex_seq_packing import BlockWiseSequencePacker
    from flextok.model.preprocessors.linear import LinearLayer
    from flextok.model.preprocessors.nullcond import LearnedNullCond
    from flextok.model.preprocessors.patching import PatchEmbedder
    from flextok.model.preprocessors.registers import Registers1D
    from flextok.model.preprocessors.time_embedding import TimestepEmbedder
    from flextok.model.preprocessors.token_dropout import MaskedNestedDropout
    from flextok.model.trunks.transformers import FlexTransformer
    from flextok.model.utils.dict_ops import (
        PerSampleOp,
        channels_first_to_last,
        channels_last_to_first,
    )
    from flextok.model.utils.posembs import PositionalEmbeddingAdder
    from flextok.model.utils.wrappers import SequentialModuleDictWrapper
    from flextok.regularizers.quantize_fsq import FSQ

    vae_wrapper.VAE_BASE_CFG["block_out_channels"] = list(s["vae_channels"])
    vae_wrapper.VAE_BASE_CFG["layers_per_block"] = s["vae_layers_per_block"]
    e, d, n, hd, side = (
        s["enc_dim"],
        s["dec_dim"],
        s["num_registers"],
        s["head_dim"],
        s["posemb_size"],
    )
    pack = partial(BlockWiseSequencePacker, pad_to_multiple=128, return_materialized_mask=sdpa)
    vae = vae_wrapper.StableDiffusionVAE(
        images_read_key="rgb",
        vae_latents_read_key="vae_latents_reconst",
        vae_latents_write_key="vae_latents",
        images_reconst_write_key="rgb_reconst",
        latent_channels=16,
        scaling_factor=s["vae_scaling_factor"],
        sample_posterior=False,
    )
    enc = {
        "enc_channels_to_last": PerSampleOp("vae_latents", "enc_bhwc", channels_first_to_last),
        "enc_patch_emb": PatchEmbedder(
            "enc_bhwc", "enc_patches", "enc_n_patches", [2, 2], 16, e, flatten_patches=False
        ),
        "enc_posemb_module": PositionalEmbeddingAdder(
            "enc_patches", "enc_patches", e, [side, side]
        ),
        "enc_register_module": Registers1D(
            "enc_patches", "register_sizes", "enc_registers", e, n, n
        ),
        "enc_seq_packer": pack(
            ["enc_patches", "enc_registers"],
            "enc_seq",
            "enc_mask",
            "enc_ps_in",
            "enc_ps_out",
            mask_mode="causal_last",
        ),
        "enc_transformer": FlexTransformer(
            "enc_seq",
            "enc_seq",
            dim=e,
            depth=s["enc_depth"],
            head_dim=hd,
            block_mask_read_key="enc_mask",
        ),
        "enc_unpacker": SequenceUnpacker(
            "enc_seq", ["enc_patches", "enc_registers"], "enc_ps_in", "enc_ps_out"
        ),
        "enc_to_latents": LinearHead("enc_registers", "enc_registers", e, 6, use_mup_readout=False),
    }
    dec = {
        "dec_from_latents": LinearLayer("enc_registers_quant", "dec_registers", 6, d),
        "dec_nested_dropout": MaskedNestedDropout("dec_registers", d, size_sampling_mode="pow2"),
        "dec_nullcond": LearnedNullCond("dec_registers", d),
        "dec_noise_channels_to_last": PerSampleOp(
            "vae_latents_noised", "dec_bhwc", channels_first_to_last
        ),
        "dec_noise_patch_emb": PatchEmbedder(
            "dec_bhwc", "dec_patches", "dec_n_patches", [2, 2], 16, d, flatten_patches=False
        ),
        "dec_noise_posemb": PositionalEmbeddingAdder("dec_patches", "dec_patches", d, [side, side]),
        "dec_time_embedder": TimestepEmbedder("timesteps", "dec_temb", d, max_timestep=1.0),
        "dec_seq_packer": pack(
            ["dec_patches", "dec_registers"],
            "dec_seq",
            "dec_mask",
            "dec_ps_in",
            "dec_ps_out",
            mask_mode="full",
            emb_packing_fn_write_key="dec_emb_fn",
            per_subseq_embs=True,
        ),
        "dec_transformer": FlexTransformer(
            "dec_seq",
            "dec_seq",
            dim=d,
            depth=s["dec_depth"],
            head_dim=hd,
            block_mask_read_key="dec_mask",
            adaLN_emb_read_key="dec_temb",
            adaLN_packing_fn_read_key="dec_emb_fn",
            adaLN_expansion=2,
        ),
        "dec_unpacker": SequenceUnpacker(
            "dec_seq", ["dec_patches", "dec_registers"], "dec_ps_in", "dec_ps_out"
        ),
        "dec_to_patches": ToPatchesLinearHead(
            "dec_patches",
            "dec_pred_bhwc",
            d,
            16,
            [2, 2],
            use_mup_readout=False,
            adaLN_emb_read_key="dec_temb",
        ),
        "dec_channels_to_first": PerSampleOp(
            "dec_pred_bhwc", "vae_latents_reconst", channels_last_to_first
        ),
    }
    if networks_only:  # FSQ computes its codebook size with .item(): it has no tensors to list
        import torch

        holder = torch.nn.Module()
        holder.vae = vae
        holder.encoder = SequentialModuleDictWrapper(enc)
        holder.decoder = SequentialModuleDictWrapper(dec)
        return holder
    model = FlexTok(
        vae=vae,
        encoder=SequentialModuleDictWrapper(enc),
        decoder=SequentialModuleDictWrapper(dec),
        regularizer=FSQ("enc_registers", "enc_registers_quant", "tokens", [8, 8, 8, 5, 5, 5]),
        flow_matching_noise_module=MinRFNoiseModule(
            "vae_latents", "vae_latents_noised", "timesteps", "sigmas"
        ),
        pipeline=partial(
            MinRFPipeline,
            latents_read_key="enc_registers_quant",
            timesteps_read_key="timesteps",
            noised_images_read_key="vae_latents_noised",
            reconst_write_key="vae_latents_reconst",
            out_channels=16,
        ),
    )
    if sdpa:  # the 87d00cc fallback; the blocks do not pass the flag, so set it on each layer
        from flextok.model.layers.attention import FlexAttention

        for m in model.modules():
            if isinstance(m, FlexAttention):
                m.use_flex_attention = False
    return model.eval()


def demo_inputs(size: int) -> "torch.Tensor":  # noqa: F821, UP037
    """The official demo's preprocessing (utils/demo.py img_from_url) on scikit-image photos:
    Resize(size), CenterCrop(size), ToTensor, Normalize(0.5, 0.5) -> [-1, 1]."""
    import torch
    from torchvision import transforms

    t = transforms.Compose(
        [
            transforms.Resize(size),
            transforms.CenterCrop(size),
            transforms.ToTensor(),
            transforms.Normalize(mean=[0.5] * 3, std=[0.5] * 3),
        ]
    )
    return torch.stack([t(skimage_photo(n).convert("RGB")) for n in PHOTO_NAMES])


def _spy_randn(calls: list) -> Any:  # noqa: ANN401
    """torch.randn that also keeps each draw (the sampler's and the posterior's noise)."""
    import torch

    randn = torch.randn

    def spy(*args: Any, **kw: Any) -> Any:  # noqa: ANN401
        out = randn(*args, **kw)
        calls.append(out.detach().clone())
        return out

    return randn, spy


def _outputs(net: Any, x: "torch.Tensor") -> dict[str, np.ndarray]:  # noqa: F821, UP037
    """Tokens (posterior mode and sampled), the sampler's initial noise as the official pipeline
    drew it, and detokenize's output per decode mode and budget."""
    import torch

    size = PARITY["image_size"] // 8
    out: dict[str, np.ndarray] = {}
    with torch.no_grad():
        tokens = net.tokenize(x)
        out["tokens"] = torch.cat(tokens).numpy()
        for name, settings in (("apg", DECODE), ("cfg", DECODE_CFG)):
            for k in BUDGETS:
                calls: list = []
                randn, torch.randn = _spy_randn(calls)
                try:
                    gen = torch.Generator().manual_seed(NOISE_SEED)
                    rec = net.detokenize(
                        [t[:, :k] for t in tokens],
                        vae_image_sizes=size,
                        generator=gen,
                        verbose=False,
                        **settings,
                    )
                finally:
                    torch.randn = randn
                noise = torch.cat(calls[: len(tokens)]).numpy()
                assert len(calls) == len(tokens) and noise.shape[1:] == (16, size, size)
                if "noise" in out:
                    assert np.array_equal(noise, out["noise"])  # the same draws every call
                out["noise"] = noise
                out[f"{name}.recon@{k}"] = rec.numpy()
        net.vae.sample_posterior = True  # the wrapper's default: mean + std * randn
        calls = []
        randn, torch.randn = _spy_randn(calls)
        try:
            torch.manual_seed(NOISE_SEED)
            out["tokens_sampled"] = torch.cat(net.tokenize(x)).numpy()
        finally:
            torch.randn = randn
            net.vae.sample_posterior = False
        out["posterior_noise"] = torch.cat(calls).numpy()
    return out


def record(a: argparse.Namespace) -> Path:

    from evalkit.judges.mask2former_random import state_dict_sha256
    from evalkit.models.weights import seeded_state_dict

    sys.path.insert(0, str(a.official))
    commit = a.commit or git_head(a.official)
    sdpa = a.attention == "sdpa"
    real = {k: list(t.shape) for k, t in official_model(REAL, sdpa, meta=True).state_dict().items()}
    net = official_model(PARITY, sdpa)
    shapes = {k: list(t.shape) for k, t in net.state_dict().items()}
    state = seeded_state_dict(shapes, SEED)
    net.load_state_dict(state, strict=True)
    x = demo_inputs(PARITY["image_size"])
    arrays = {"images": x.numpy(), **_outputs(net, x)}
    other = official_model(PARITY, not sdpa)  # the other attention path, same weights
    other.load_state_dict(state, strict=True)
    alt = _outputs(other, x)
    assert np.array_equal(alt["tokens"], arrays["tokens"])
    between = {k: float(np.abs(alt[k] - arrays[k]).max()) for k in alt if ".recon@" in k}
    npz = FIXTURES / "flextok_official.npz"
    np.savez_compressed(npz, **arrays)
    path_text = "the SDPA fallback (use_flex_attention=False, materialized masks)"
    path_text = path_text if sdpa else "flex_attention"
    gen_text = f"torch.Generator().manual_seed({NOISE_SEED})"
    doc = {
        "_about": (
            "FlexTok parity fixture, recorded by scripts/record_official_fixtures.py flextok: the "
            "official FlexTok (flextok_wrapper.py) of apple/ml-flextok built by "
            "official_fixtures/flextok.py:official_model from the parity settings, loaded "
            f"(strict) with evalkit.models.weights.seeded_state_dict(shapes, {SEED}); attention: "
            f"{path_text}. "
            "Inputs: the official demo preprocessing of scikit-image photos (npz 'images', "
            "[-1, 1]); tokens = tokenize(images) (sample_posterior=False); noise = the sampler's "
            f"initial draws (torch.randn, captured) from {gen_text}; "
            "'<mode>.recon@k' = detokenize of the first k tokens with that generator and the "
            "mode's settings, unclamped [-1, 1]; tokens_sampled = tokenize with "
            f"sample_posterior=True after torch.manual_seed({NOISE_SEED}), posterior_noise its "
            "draws (captured). "
            "real_model: key names and shapes of the d18-d28 settings. Not written by hand."
        ),
        "source_repo": "https://github.com/apple/ml-flextok",
        "source_commit": commit,
        "command": "python scripts/record_official_fixtures.py flextok --official <checkout>",
        "versions": versions("torch", "diffusers", "einops", "hydra-core", "numpy"),
        "attention": a.attention,
        "max_abs_diff_to_the_other_attention_path": between,
        "parity": PARITY,
        "real": REAL,
        "seed": SEED,
        "noise_seed": NOISE_SEED,
        "budgets": list(BUDGETS),
        "decode": {"apg": DECODE, "cfg": DECODE_CFG},
        "state_dict_sha256": state_dict_sha256(state),
        "npz": npz.name,
        "parity_state_dict": shapes,
        "real_model": {"num_tensors": len(real), "state_dict": real},
    }
    path = FIXTURES / "flextok_official.json"
    path.write_text(dump_compact(doc))
    return path
