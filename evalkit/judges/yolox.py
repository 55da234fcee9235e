"""YOLOX-Nano (COCO-80, ONNX on onnxruntime): the offline stand-in detector, boxes only.

Pre/post-processing as Megvii's YOLOX demo: BGR 0-255 input, aspect-preserving resize to fit
416 x 416 pasted top-left on a 114-grey canvas; decode cells on strides 8/16/32
(xy = (xy + grid) * stride, wh = exp(wh) * stride); score = objectness x class score; per-class
NMS at IoU 0.45; boxes divided by the resize scale. Rules apply their own thresholds to the
scores, so everything above ``score_floor`` is returned. Class names are mapped by index to
GenEval's (COCO) names, since the ONNX sample's list uses Darknet spellings.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from evalkit.judges.detection import Detections, DetectorInfo
from evalkit.types import WeightsFile

INPUT_SIZE = 416
STRIDES = (8, 16, 32)
NMS_IOU = 0.45
SCORE_FLOOR = 0.01
PAD_VALUE = 114.0
SOURCE_COMMIT = "3d4f1119d0694200671c08069ecb847aa0d8495a"  # Kazuhito00/YOLOX-ONNX-TFLite-Sample
WEIGHTS = WeightsFile(
    filename="yolox_nano.onnx",
    # sha256 computed from the store's copy (its README gives the same value)
    sha256="695e750a5d5754bb5a8d5325643b59282191a7e7a564e435a415fd3c578eab14",
    store_path="weights/yolox-nano/yolox_nano.onnx",
    url="https://raw.githubusercontent.com/Kazuhito00/YOLOX-ONNX-TFLite-Sample/"
    f"{SOURCE_COMMIT}/model/yolox_nano.onnx",
)
# COCO-80 in the detector's label order, with COCO's own spellings (GenEval's object_names.txt).
_COCO80_TEXT = (
    "person bicycle car motorcycle airplane bus train truck boat traffic_light fire_hydrant "
    "stop_sign parking_meter bench bird cat dog horse sheep cow elephant bear zebra giraffe "
    "backpack umbrella handbag tie suitcase frisbee skis snowboard sports_ball kite baseball_bat "
    "baseball_glove skateboard surfboard tennis_racket bottle wine_glass cup fork knife spoon bowl "
    "banana apple sandwich orange broccoli carrot hot_dog pizza donut cake chair couch "
    "potted_plant bed dining_table toilet tv laptop computer_mouse tv_remote computer_keyboard "
    "cell_phone microwave oven toaster sink refrigerator book clock vase scissors teddy_bear "
    "hair_drier toothbrush"
)
COCO80 = tuple(name.replace("_", " ") for name in _COCO80_TEXT.split(" "))


def letterbox(image: np.ndarray) -> tuple[np.ndarray, float]:
    """uint8 HWC RGB -> float32 1x3x416x416 BGR canvas, and the resize scale."""
    from PIL import Image

    h, w = image.shape[:2]
    scale = min(INPUT_SIZE / h, INPUT_SIZE / w)
    nh, nw = int(h * scale), int(w * scale)
    resized = np.asarray(Image.fromarray(image).resize((nw, nh), Image.BILINEAR), np.float32)
    canvas = np.full((INPUT_SIZE, INPUT_SIZE, 3), PAD_VALUE, dtype=np.float32)
    canvas[:nh, :nw] = resized[..., ::-1]  # RGB -> BGR
    return canvas.transpose(2, 0, 1)[None].copy(), scale


@lru_cache(maxsize=1)
def _grids() -> tuple[np.ndarray, np.ndarray]:
    grids, strides = [], []
    for s in STRIDES:
        n = INPUT_SIZE // s
        ys, xs = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        grids.append(np.stack([xs, ys], -1).reshape(-1, 2))
        strides.append(np.full((n * n, 1), s))
    return np.concatenate(grids).astype(np.float32), np.concatenate(strides).astype(np.float32)


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> list[int]:
    """Greedy NMS (highest score first); returns kept indices in score order."""
    order = np.argsort(-scores, kind="stable")
    x1, y1, x2, y2 = boxes.T
    areas = np.maximum(x2 - x1, 0) * np.maximum(y2 - y1, 0)
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]))
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]))
        inter = w * h
        union = areas[i] + areas[rest] - inter
        overlap = np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)
        order = rest[overlap <= iou]
    return keep


def decode(raw: np.ndarray, scale: float, score_floor: float = SCORE_FLOOR) -> Detections:
    """One image's raw output (3549, 85) -> per-class boxes in the original image's pixels."""
    grid, stride = _grids()
    xy = (raw[:, :2] + grid) * stride
    wh = np.exp(raw[:, 2:4]) * stride
    boxes = np.concatenate([xy - wh / 2, xy + wh / 2], axis=1) / scale
    scores = raw[:, 4:5] * raw[:, 5:]
    out: Detections = {}
    for c in range(scores.shape[1]):
        sel = np.nonzero(scores[:, c] > score_floor)[0]
        if sel.size == 0:
            continue
        kept = sel[nms(boxes[sel], scores[sel, c], NMS_IOU)]
        # float32, as onnxruntime gives them: rules compare scores in the detector's dtype
        out[COCO80[c]] = np.concatenate([boxes[kept], scores[kept, c : c + 1]], 1).astype(
            np.float32
        )
    return out


class YoloxNano:
    """The offline detector: labelled, boxes only, never comparable with official numbers."""

    def __init__(self, path: str | None = None, threads: int | None = None) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "the yolox-nano detector needs onnxruntime: pip install 'evalkit[detect]'"
            ) from exc
        from evalkit.store import resolve

        what = "YOLOX-Nano detector weights (-O detector=yolox-nano)"
        weights = path or str(resolve(WEIGHTS, what))
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        self.session = ort.InferenceSession(weights, opts, providers=_providers(ort))
        self.input_name = self.session.get_inputs()[0].name
        self.info = DetectorInfo(
            id="yolox-nano",
            weights=f"yolox_nano.onnx:{WEIGHTS.sha256}",
            official=False,
            notes="YOLOX-Nano COCO (mAP 25.8), ONNX; per-class NMS 0.45; boxes only",
        )

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        """Detect on each image (the ONNX graph has batch size 1)."""
        results = []
        for image in images:
            if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
                raise ValueError(
                    f"yolox-nano wants uint8 HxWx3 RGB, got {image.dtype} {image.shape}"
                )
            blob, scale = letterbox(image)
            raw = self.session.run(None, {self.input_name: blob})[0][0]
            results.append(decode(raw, scale))
        return results


def _providers(ort: object) -> list[str]:
    available = ort.get_available_providers()  # type: ignore[attr-defined]
    return [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]
