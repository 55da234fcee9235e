"""UniTok's image tokenizer (FoundationVision/UniTok, models/unitok.py, vitamin.py, vqvae.py,
quant.py) with the official parameter names: a ViTamin encoder (MbConv stem and stages, a strided
conv, then a ViT with GeGLU MLPs and no position embedding but a constant ``pos_embed`` vector),
an attention projection to 64 dims, eight cosine-similarity codebooks (one per 8-dim chunk), an
attention projection back and a ViTamin decoder (ViT blocks, then upsampling MbConv blocks).

The CLIP side of the official module (text tower, ``fc_norm``, ``projection``, ``logit_scale``)
takes no part in tokens or images and is not built. Written for evalkit from the official code's
structure; UniTok's ``vitamin_large`` is its own timm registration (tanh-GELU GeGLU), not timm's
``vitamin_large_256``, so timm is not used.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from evalkit.models.unitok_config import UniTokConfig


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over channels of an NCHW map (timm's ``layernorm2d``, eps 1e-6)."""

    def __init__(self, channels: int) -> None:
        super().__init__(channels, eps=1e-6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class NormGelu2d(LayerNorm2d):
    """timm's ``LayerNormAct2d`` with exact GELU."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(super().forward(x))


def conv3(cin: int, cout: int, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, groups=groups)


class Stem(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.conv1 = conv3(3, width, stride=2)
        self.norm1 = NormGelu2d(width)
        self.conv2 = conv3(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(self.norm1(self.conv1(x)))


class Downsample2d(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.pool = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
        self.expand = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.expand(self.pool(x))


class Upsample2d(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = conv3(cin, cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


class MbConvBlock(nn.Module):
    """Pre-norm inverted bottleneck (1x1 expand x4, depthwise 3x3, 1x1), strided down
    (``MbConvLNBlock``) or, with ``up``, upsampled before the depthwise conv
    (``InvMbConvLNBlock``)."""

    def __init__(self, cin: int, cout: int, stride: int, up: bool = False) -> None:
        super().__init__()
        mid = cout * 4
        if stride == 2:
            self.shortcut: nn.Module = Upsample2d(cin, cout) if up else Downsample2d(cin, cout)
        else:
            self.shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()
        self.pre_norm = LayerNorm2d(cin)
        self.conv1_1x1 = nn.Conv2d(cin, mid, 1)
        if up and stride == 2:
            self.up: nn.Module = Upsample2d(mid, mid)
        self.conv2_kxk = conv3(mid, mid, stride=1 if up else stride, groups=mid)
        self.conv3_1x1 = nn.Conv2d(mid, cout, 1)
        self.upsamples = up and stride == 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.gelu(self.conv1_1x1(self.pre_norm(x)))
        if self.upsamples:
            h = self.up(h)
        h = self.conv3_1x1(F.gelu(self.conv2_kxk(h)))
        return h + self.shortcut(x)


class StridedConv(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.proj = conv3(cin, cout, stride=2)
        self.norm = LayerNorm2d(cin)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(self.norm(x))


class MbConvStages(nn.Module):
    def __init__(self, w1: int, w2: int, width: int, depths: tuple[int, int] = (2, 4)) -> None:
        super().__init__()
        self.stem = Stem(w1)
        stages, cin = [], w1
        for dim, depth in zip((w1, w2), depths, strict=True):
            blocks = [MbConvBlock(dim if d else cin, dim, 1 if d else 2) for d in range(depth)]
            stages.append(nn.Sequential(*blocks))
            cin = dim
        self.stages = nn.ModuleList(stages)
        self.pool = StridedConv(w2, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
        return self.pool(x)


class HybridEmbed(nn.Module):
    def __init__(self, backbone: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone(x).flatten(2).transpose(1, 2)


class GeGluMlp(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.w0 = nn.Linear(dim, hidden)
        self.w1 = nn.Linear(dim, hidden)
        self.w2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm(x)
        return self.w2(F.gelu(self.w0(x), approximate="tanh") * self.w1(x))


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, -1).permute(2, 0, 3, 1, 4).unbind(0)
        return self.proj(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, n, c))


class Block(nn.Module):
    """timm's ViT block (no layer scale) with the GeGLU MLP at ratio 2."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = GeGluMlp(dim, dim * 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class Encoder(nn.Module):
    """The official ``timm.create_model(args.model, pos_embed='none', ...)`` with its
    ``pos_embed`` replaced by a (1, 1, width) parameter that is still added."""

    def __init__(self, c: UniTokConfig) -> None:
        super().__init__()
        self.pos_embed = nn.Parameter(torch.zeros(1, 1, c.width), requires_grad=False)
        self.patch_embed = HybridEmbed(MbConvStages(*c.conv_widths, c.width))
        self.blocks = nn.Sequential(*[Block(c.width, c.num_heads) for _ in range(c.depth)])
        self.norm = nn.LayerNorm(c.width, eps=1e-6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.blocks(self.patch_embed(x) + self.pos_embed))


class PlainAttention(nn.Module):
    """Multi-head attention between widths: heads averaged when narrowing, concatenated when
    widening; the key bias is the ``zero_k_bias`` buffer (loaded, as the official one is)."""

    def __init__(self, cin: int, cout: int, heads: int) -> None:
        super().__init__()
        wide = max(cin, cout)
        self.heads, self.narrows = heads, cin > cout
        self.qkv = nn.Linear(cin, wide * 3, bias=False)
        self.q_bias = nn.Parameter(torch.zeros(wide))
        self.v_bias = nn.Parameter(torch.zeros(wide))
        self.register_buffer("zero_k_bias", torch.zeros(wide))
        self.proj = nn.Linear(cout, cout)
        self.cout = cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        bias = torch.cat((self.q_bias, self.zero_k_bias, self.v_bias))
        qkv = F.linear(x, self.qkv.weight, bias).reshape(b, n, 3, self.heads, -1)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        y = F.scaled_dot_product_attention(q, k, v)
        if self.narrows:
            y = y.mean(dim=1)
            if y.shape[-1] != self.cout:
                y = F.adaptive_avg_pool1d(y, self.cout)
        else:
            y = y.transpose(1, 2).reshape(b, n, -1)
        return self.proj(y)


class AttnProjection(nn.Module):
    def __init__(self, cin: int, cout: int, heads: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(cin)
        self.attn = PlainAttention(cin, cout, heads)
        self.proj = nn.Linear(cin, cout)
        self.norm3 = nn.LayerNorm(cin)
        self.norm2 = nn.LayerNorm(cout)
        self.mlp = GeGluMlp(cout, cout * 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.proj(self.norm3(x)) + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class Codebook(nn.Module):
    """One ``VectorQuantizer``: cosine-nearest code among L2-normalised entries."""

    def __init__(self, entries: int, dim: int) -> None:
        super().__init__()
        self.register_buffer("vocab_usage", torch.zeros(entries))  # training statistic
        self.codebook = nn.Embedding(entries, dim)

    def normalized(self) -> torch.Tensor:
        return F.normalize(self.codebook.weight, dim=1)


class MultiCodebookQuantizer(nn.Module):
    """``VectorQuantizerM``: the feature split into equal chunks, one codebook each."""

    def __init__(self, c: UniTokConfig) -> None:
        super().__init__()
        dim = c.vocab_width // c.num_codebooks
        self.codebooks = nn.ModuleList(
            Codebook(c.codebook_entries, dim) for _ in range(c.num_codebooks)
        )

    def f_to_idx(self, features: torch.Tensor) -> torch.Tensor:
        """(B, L, C) -> (B, num_codebooks, L)."""
        chunks = features.split(features.shape[-1] // len(self.codebooks), dim=-1)
        out = []
        for chunk, book in zip(chunks, self.codebooks, strict=True):
            f = F.normalize(chunk, dim=-1).float()
            out.append(torch.argmax(f @ book.normalized().float().T, dim=-1))
        return torch.stack(out, dim=1)

    def idx_to_f(self, indices: torch.Tensor) -> torch.Tensor:
        parts = [F.embedding(indices[:, i], b.normalized()) for i, b in enumerate(self.codebooks)]
        return torch.cat(parts, dim=-1)


class Decoder(nn.Module):
    """``ViTaminDecoder``: ViT blocks on the token grid, then x16 upsampling."""

    def __init__(self, c: UniTokConfig) -> None:
        super().__init__()
        w1, w2 = c.conv_widths
        self.blocks = nn.Sequential(*[Block(c.width, c.num_heads) for _ in range(c.depth)])
        self.norm = nn.LayerNorm(c.width, eps=1e-6)
        self.up_conv1 = Upsample2d(c.width, w2)
        d2, d3 = c.decoder_depths
        self.up_conv2 = nn.Sequential(
            *[MbConvBlock(w2, w2, 2 if d == 0 else 1, up=True) for d in range(d2)]
        )
        self.up_conv3 = nn.Sequential(
            *[MbConvBlock(w2 if d == 0 else w1, w1, 2 if d == 0 else 1, up=True) for d in range(d3)]
        )
        self.up_conv4 = InvStem(w1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        side = round(n**0.5)
        x = self.norm(self.blocks(x)).view(b, side, side, c).permute(0, 3, 1, 2)
        return self.up_conv4(self.up_conv3(self.up_conv2(self.up_conv1(x))))


class InvStem(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.conv1 = Upsample2d(width, width)
        self.norm1 = NormGelu2d(width)
        self.conv2 = conv3(width, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(self.norm1(self.conv1(x)))


class UniTokNet(nn.Module):
    """The tokenizer half of the official ``UniTok``, in its submodule order."""

    def __init__(self, c: UniTokConfig) -> None:
        super().__init__()
        self.config = c
        heads = c.width // c.vocab_width
        self.encoder = Encoder(c)
        self.quant_proj = AttnProjection(c.width, c.vocab_width, heads)
        self.quantizer = MultiCodebookQuantizer(c)
        self.post_quant_proj = AttnProjection(c.vocab_width, c.width, heads)
        self.decoder = Decoder(c)

    def encode_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.quant_proj(self.encoder(x).float())

    def encode_indices(self, x: torch.Tensor) -> torch.Tensor:
        """``img_to_idx``: (B, num_codebooks, L) indices."""
        return self.quantizer.f_to_idx(self.encode_features(x))

    def decode_indices(self, indices: torch.Tensor) -> torch.Tensor:
        """``idx_to_img`` before its clamp."""
        return self.decoder(self.post_quant_proj(self.quantizer.idx_to_f(indices)))

    def flat_token_ids(self, indices: torch.Tensor) -> torch.Tensor:
        """(B, num_codebooks * L) ids, codebook k's entries offset by k * entries, so that
        codebook usage counts over all ``vocab_size`` entries."""
        k = indices.shape[1]
        offsets = torch.arange(k, device=indices.device).view(1, k, 1)
        return (indices + offsets * self.config.codebook_entries).flatten(1)

    def size_error(self, height: int, width: int) -> str | None:
        size = self.config.img_size
        if (height, width) != (size, size):
            return f"{size} x {size} images only"
        return None
