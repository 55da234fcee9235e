"""GenEval's official detector: Mask2Former Swin-S COCO (mmdet 2.x checkpoint), three runtimes.

Only the weights constants live here until the transformers conversion lands.
"""

from __future__ import annotations

from evalkit.types import WeightsFile

CHECKPOINT_NAME = "mask2former_swin-s-p4-w7-224_lsj_8x2_50e_coco_20220504_001756-743b7d99.pth"
CHECKPOINT = WeightsFile(
    filename=CHECKPOINT_NAME,
    sha256=None,  # not published; mmdet's file name carries the first 8 hex digits (743b7d99)
    store_path=f"weights/mask2former/{CHECKPOINT_NAME}",
    url="https://download.openmmlab.com/mmdetection/v2.0/mask2former/"
        f"mask2former_swin-s-p4-w7-224_lsj_8x2_50e_coco/{CHECKPOINT_NAME}",
)
HF_ALTERNATIVE = WeightsFile(
    filename="model.safetensors", hub_id="facebook/mask2former-swin-small-coco-instance",
    store_path="weights/mask2former-swin-small-coco-instance/model.safetensors",
)
