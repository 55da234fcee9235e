"""Re-statements of the official spatial rules, written from the official code for parity tests.

Each keeps the official data structures (lists of boxes with labels, dicts of x_min/...), loops
and Python-float arithmetic, so that our vectorised versions are checked against the original
control flow, not against themselves.
- VISOR: microsoft/VISOR text2image_realtime_evaluate.ipynb ``process_detection``; visor.py
  ``get_visor_spatial`` / ``get_visor_n`` (+ the notebook's ``get_visor_per_text``).
- T2I-CompBench: UniDet_eval/2D_spatial_eval.py ``determine_position`` and the scoring in main().
- GenEval: evaluation/evaluate_images.py ``evaluate_image`` (filtering), ``evaluate``,
  ``relative_position``.
"""

from __future__ import annotations

import itertools

import numpy as np


# --------------------------------------------------------------------------------- VISOR
def visor_process_detection(boxes, scores, labels, obj1, obj2, rel):
    """boxes: list of [x1,y1,x2,y2]; labels: list of 0/1 (index into [obj1, obj2])."""
    objects = [obj1, obj2]
    det_bbox, det_labels = [], []
    for box, score, label in zip(boxes, scores, labels):
        if score > 0.1:
            det_bbox.append(list(box))
            det_labels.append(objects[label])
    cent = [((b[0] + b[2]) / 2, (b[1] + b[3]) / 2) for b in det_bbox]
    if obj1 in det_labels and obj2 in det_labels:
        recall = 2
    elif obj1 in det_labels or obj2 in det_labels:
        recall = 1
    else:
        recall = 0
    sra = 0
    if obj1 in det_labels and obj2 in det_labels:
        idx1 = np.where(np.array(det_labels) == obj1)[0]
        idx2 = np.where(np.array(det_labels) == obj2)[0]
        for i1, i2 in itertools.product(idx1.tolist(), idx2.tolist()):
            xd = cent[i1][0] - cent[i2][0]
            yd = cent[i1][1] - cent[i2][1]
            if rel == "to the left of" and xd < 0:
                sra = 1
                break
            if rel == "to the right of" and xd > 0:
                sra = 1
                break
            if rel == "above" and yd < 0:
                sra = 1
                break
            if rel == "below" and yd > 0:
                sra = 1
                break
    return {"classes": det_labels, "recall": recall, "sra": sra}


def visor_script_summary(results, text):
    """visor.py: results {img_id: {classes, sra}}, text [{obj_1, obj_2, rel, N}] by uid."""
    both_all = cond = count = 0
    by_uid: dict[int, list[int]] = {}
    for img_id, rr in results.items():
        uid = int(img_id.split("_")[0])
        ann = text[uid]
        if ann["rel"] == "and" or ann["N"] != 2:
            continue
        det = rr["classes"]
        both = int(ann["obj1"] in det and ann["obj2"] in det)
        both_all += both
        cond += both * rr["sra"]
        count += 1
        by_uid[uid] = by_uid.get(uid, []) + [both * rr["sra"]]
    visor_cond = 100 * cond / both_all
    oa = 100 * both_all / count
    n = len(by_uid)
    vn = [100 * sum(1 for s in by_uid.values() if sum(s) >= k) / n for k in (1, 2, 3, 4)]
    return {
        "OA": oa,
        "VISOR_cond": visor_cond,
        "VISOR_uncond": 0.01 * (visor_cond * oa),
        **{f"VISOR_{k}": v for k, v in zip((1, 2, 3, 4), vn)},
    }


def visor_notebook_n(results, text):
    """The notebook's VISOR_n: only prompts with both objects in some image (no 1e-6 here)."""
    by_uid: dict[int, list[int]] = {}
    for img_id, rr in results.items():
        uid = int(img_id.split("_")[0])
        ann = text[uid]
        if ann["rel"] == "and" or ann["N"] != 2:
            continue
        both = int(ann["obj1"] in rr["classes"] and ann["obj2"] in rr["classes"])
        if both == 1:
            by_uid[uid] = by_uid.get(uid, []) + [both * rr["sra"]]
    n = len(by_uid)
    return [100 * sum(1 for s in by_uid.values() if sum(s) >= k) / n for k in (1, 2, 3, 4)]


# ------------------------------------------------------------------------- T2I-CompBench
def t2i_determine_position(locality, box1, box2, iou_threshold=0.1, distance_threshold=150):
    c1 = ((box1["x_min"] + box1["x_max"]) / 2, (box1["y_min"] + box1["y_max"]) / 2)
    c2 = ((box2["x_min"] + box2["x_max"]) / 2, (box2["y_min"] + box2["y_max"]) / 2)
    x_distance = c2[0] - c1[0]
    y_distance = c2[1] - c1[1]
    x_overlap = max(0, min(box1["x_max"], box2["x_max"]) - max(box1["x_min"], box2["x_min"]))
    y_overlap = max(0, min(box1["y_max"], box2["y_max"]) - max(box1["y_min"], box2["y_min"]))
    intersection = x_overlap * y_overlap
    a1 = (box1["x_max"] - box1["x_min"]) * (box1["y_max"] - box1["y_min"])
    a2 = (box2["x_max"] - box2["x_min"]) * (box2["y_max"] - box2["y_min"])
    iou = intersection / (a1 + a2 - intersection)  # ZeroDivisionError as the official code
    score = 0
    if locality in ["next to", "on side of", "near"]:
        if abs(x_distance) < distance_threshold or abs(y_distance) < distance_threshold:
            score = 1
        else:
            score = distance_threshold / max(abs(x_distance), abs(y_distance))
    elif locality == "on the right of":
        if x_distance < 0:
            if abs(x_distance) > abs(y_distance) and iou < iou_threshold:
                score = 1
            elif abs(x_distance) > abs(y_distance) and iou >= iou_threshold:
                score = iou_threshold / iou
        else:
            score = 0
    elif locality == "on the left of":
        if x_distance > 0:
            if abs(x_distance) > abs(y_distance) and iou < iou_threshold:
                score = 1
            elif abs(x_distance) > abs(y_distance) and iou >= iou_threshold:
                score = iou_threshold / iou
        else:
            score = 0
    elif locality == "on the bottom of":
        if y_distance < 0:
            if abs(y_distance) > abs(x_distance) and iou < iou_threshold:
                score = 1
            elif abs(y_distance) > abs(x_distance) and iou >= iou_threshold:
                score = iou_threshold / iou
    elif locality == "on the top of":
        if y_distance > 0:
            if abs(y_distance) > abs(x_distance) and iou < iou_threshold:
                score = 1
            elif abs(y_distance) > abs(x_distance) and iou >= iou_threshold:
                score = iou_threshold / iou
    else:
        score = 0
    return score


def t2i_score(prompt, obj1, obj2, names, boxes, scores):
    """main()'s per-image score; names/boxes/scores: detector output above 0.5, score-sorted."""
    vocab = [
        "on side of",
        "next to",
        "near",
        "on the left of",
        "on the right of",
        "on the bottom of",
        "on the top of",
        "on top of",
    ]
    locality = None
    for word in vocab:
        if word in prompt:
            locality = word
            break
    person = ["girl", "boy", "man", "woman"]
    obj1 = "person" if obj1 in person else obj1
    obj2 = "person" if obj2 in person else obj2
    if obj1 in names and obj2 in names:
        p1, p2 = names.index(obj1), names.index(obj2)
        b1, b2 = boxes[p1], boxes[p2]
        box1 = {"x_min": b1[0], "y_min": b1[1], "x_max": b1[2], "y_max": b1[3]}
        box2 = {"x_min": b2[0], "y_min": b2[1], "x_max": b2[2], "y_max": b2[3]}
        score = 0.25 * scores[p1] + 0.25 * scores[p2]
        score += t2i_determine_position(locality, box1, box2) / 2
    elif obj1 in names:
        score = 0.25 * scores[names.index(obj1)]
    elif obj2 in names:
        score = 0.25 * scores[names.index(obj2)]
    else:
        score = 0
    if score < 0.5:
        score = 0
    return score


# -------------------------------------------------------------------------------- GenEval
def geneval_filter(bbox_by_class, threshold=0.3, max_objects=16):
    """evaluate_image's filtering: {class: (n,5)} -> {class: [(box, None), ...]}, no NMS."""
    detected = {}
    for name, arr in bbox_by_class.items():
        ordering = np.argsort(arr[:, 4])[::-1]
        ordering = ordering[arr[ordering, 4] > threshold]
        ordering = ordering[:max_objects].tolist()
        detected[name] = []
        while ordering:
            detected[name].append((arr[ordering.pop(0)], None))
        if not detected[name]:
            del detected[name]
    return detected


def geneval_relative_position(obj_a, obj_b, position_threshold=0.1):
    boxes = np.array([obj_a[0], obj_b[0]])[:, :4].reshape(2, 2, 2)
    center_a, center_b = boxes.mean(axis=-2)
    dim_a, dim_b = np.abs(np.diff(boxes, axis=-2))[..., 0, :]
    offset = center_a - center_b
    revised = np.maximum(np.abs(offset) - position_threshold * (dim_a + dim_b), 0) * np.sign(offset)
    if np.all(np.abs(revised) < 1e-3):
        return set()
    dx, dy = revised / np.linalg.norm(offset)
    rel = set()
    if dx < -0.5:
        rel.add("left of")
    if dx > 0.5:
        rel.add("right of")
    if dy < -0.5:
        rel.add("above")
    if dy > 0.5:
        rel.add("below")
    return rel


def geneval_evaluate(objects, metadata):
    correct = True
    groups = []
    for req in metadata.get("include", []):
        matched = True
        found = objects.get(req["class"], [])[: req["count"]]
        if len(found) < req["count"]:
            correct = matched = False
        elif "position" in req and matched:
            rel, tgt = req["position"]
            if groups[tgt] is None:
                correct = matched = False
            else:
                for obj in found:
                    for target in groups[tgt]:
                        if rel not in geneval_relative_position(obj, target):
                            correct = matched = False
                            break
                    if not matched:
                        break
        groups.append(found if matched else None)
    for req in metadata.get("exclude", []):
        if len(objects.get(req["class"], [])) >= req["count"]:
            correct = False
    return correct
