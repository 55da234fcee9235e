"""Cutting text crops and aligning faces from ground-truth geometry (no detection stage).

Text: the official flow passes each image's boxes to docTR's ``crop_bboxes_from_image`` after
``np.array(boxes, float32).astype(int)``: integer pixel coordinates, so straight boxes
``(xmin, ymin, xmax, ymax)`` are plain slices and 4-point polygons are warped with the affine
transform fixed by their first three points (output ``int(|p0p1|) x int(|p1p2|)``, bilinear,
black border). We reproduce those semantics here.

Faces: both the original and the reconstruction are aligned with the SAME ground-truth 5 points
(insightface order: left eye, right eye, nose tip, left and right mouth corner, image left/right)
by a least-squares similarity transform (Umeyama, as skimage's ``SimilarityTransform.estimate``).
The antelopev2 judge uses insightface's own ``norm_crop`` instead (the official call); this one
serves the dlib judge's template.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

# dlib's mean face (get_face_chip_details, 68-point branch) for the points we need, in [0, 1]:
# eyes 36-41 and 42-47 (averaged to centres), nose tip 30, mouth corners 48 and 54.
_DLIB_EYE_L = np.array(
    [
        [0.121737, 0.187122, 0.265825, 0.334606, 0.260918, 0.182743],
        [0.216423, 0.178758, 0.179852, 0.231733, 0.245099, 0.244077],
    ]
)
_DLIB_EYE_R = np.array(
    [
        [0.645647, 0.714428, 0.793132, 0.858516, 0.79751, 0.719335],
        [0.231733, 0.179852, 0.178758, 0.216423, 0.244077, 0.245099],
    ]
)
DLIB_MEAN_FACE_5 = np.array(
    [
        _DLIB_EYE_L.mean(axis=1),
        _DLIB_EYE_R.mean(axis=1),
        [0.490127, 0.515625],
        [0.254149, 0.780233],
        [0.726104, 0.780233],
    ]
)


def dlib_template(size: int = 150, padding: float = 0.25) -> np.ndarray:
    """Where dlib's chip (150 px, padding 0.25 as in face_recognition) puts the 5 points."""
    return (padding + DLIB_MEAN_FACE_5) / (2 * padding + 1) * size


def int_geometry(bbox: Sequence[float] | Sequence[Sequence[float]]) -> np.ndarray:
    """The official cast: float32, then truncation to int."""
    return np.asarray(bbox, dtype=np.float32).astype(int)


def crop_text(img: np.ndarray, bbox: Sequence[float] | Sequence[Sequence[float]]) -> np.ndarray:
    """One text crop (HWC uint8) from ``img``, with docTR's integer-geometry semantics."""
    g = int_geometry(bbox)
    if g.shape == (4,):
        x0, y0, x1, y1 = (int(v) for v in g)
        return np.ascontiguousarray(img[y0:y1, x0:x1])
    if g.shape == (4, 2):
        src = g[:3].astype(np.float32)
        d1 = float(np.linalg.norm(src[0] - src[1]))
        d2 = float(np.linalg.norm(src[1] - src[2]))
        w, h = int(d1), int(d2)
        if w <= 0 or h <= 0:
            return np.zeros((max(h, 0), max(w, 0), img.shape[2]), dtype=img.dtype)
        dst = np.zeros((3, 2), dtype=np.float32)
        dst[1, 0] = dst[2, 0] = d1 - 1
        dst[2, 1] = d2 - 1
        return cv2.warpAffine(img, cv2.getAffineTransform(src, dst), (w, h))
    raise ValueError(f"text bbox must be 4 numbers or 4 points, got shape {g.shape}")


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """2 x 3 least-squares similarity (rotation, uniform scale, translation) mapping src to dst."""
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    n, dim = src.shape
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    cov = dst_c.T @ src_c / n
    d = np.ones(dim)
    if np.linalg.det(cov) < 0:
        d[-1] = -1
    u, s, vt = np.linalg.svd(cov)
    rank = np.linalg.matrix_rank(cov)
    if rank == 0:
        raise ValueError("degenerate landmarks: all points coincide")
    if rank == dim - 1 and np.linalg.det(u) * np.linalg.det(vt) > 0:
        r = u @ vt
    elif rank == dim - 1:
        r = u @ np.diag(np.r_[np.ones(dim - 1), -1.0]) @ vt
    else:
        r = u @ np.diag(d) @ vt
    var = src_c.var(axis=0).sum()
    scale = (s * d).sum() / var
    t = dst_mean - scale * r @ src_mean
    return np.hstack([scale * r, t[:, None]])


def align_face(img: np.ndarray, kps: Sequence[Sequence[float]], template: np.ndarray, size: int):
    """Warp ``img`` so the 5 ``kps`` land on ``template`` in a ``size`` x ``size`` chip."""
    m = similarity_transform(np.asarray(kps, dtype=np.float64).reshape(5, 2), template)
    return cv2.warpAffine(img, m, (size, size), borderValue=0.0)
