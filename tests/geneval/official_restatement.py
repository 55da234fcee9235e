"""A re-statement of GenEval's evaluate_image (djghosh13/geneval@af4902f), for parity tests.

Written separately from evalkit's rules, in the official code's shape: detections become a dict
of ``(bbox, mask)`` lists after the per-class threshold / ordering / cap / overlap loop, then the
include loop with ``matched_groups`` and the exclude loop. Module globals of the official script
are parameters here; the colour step calls ``colour_fn(classname, [(bbox, mask), ...])``. The one
deliberate difference: relations in a reason are listed in the order of the official if-chain
(the official iterates a Python set, whose order depends on PYTHONHASHSEED).
"""

from __future__ import annotations

import numpy as np

COLORS = ["red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "black", "white"]


def compute_iou(box_a, box_b):
    def area_fn(box):
        return max(box[2] - box[0] + 1, 0) * max(box[3] - box[1] + 1, 0)

    i_area = area_fn(
        [
            max(box_a[0], box_b[0]),
            max(box_a[1], box_b[1]),
            min(box_a[2], box_b[2]),
            min(box_a[3], box_b[3]),
        ]
    )
    u_area = area_fn(box_a) + area_fn(box_b) - i_area
    return i_area / u_area if u_area else 0


def relative_position(obj_a, obj_b, position_threshold):
    boxes = np.array([obj_a[0], obj_b[0]])[:, :4].reshape(2, 2, 2)
    center_a, center_b = boxes.mean(axis=-2)
    dim_a, dim_b = np.abs(np.diff(boxes, axis=-2))[..., 0, :]
    offset = center_a - center_b
    revised_offset = np.maximum(np.abs(offset) - position_threshold * (dim_a + dim_b), 0) * np.sign(
        offset
    )
    if np.all(np.abs(revised_offset) < 1e-3):
        return []
    dx, dy = revised_offset / np.linalg.norm(offset)
    relations = []
    if dx < -0.5:
        relations.append("left of")
    if dx > 0.5:
        relations.append("right of")
    if dy < -0.5:
        relations.append("above")
    if dy > 0.5:
        relations.append("below")
    return relations


def evaluate(objects, metadata, colour_fn, position_threshold):
    correct = True
    reason = []
    matched_groups = []
    for req in metadata.get("include", []):
        classname = req["class"]
        matched = True
        found_objects = objects.get(classname, [])[: req["count"]]
        if len(found_objects) < req["count"]:
            correct = matched = False
            reason.append(f"expected {classname}>={req['count']}, found {len(found_objects)}")
        else:
            if "color" in req:
                colors = colour_fn(classname, found_objects)
                if colors.count(req["color"]) < req["count"]:
                    correct = matched = False
                    reason.append(
                        f"expected {req['color']} {classname}>={req['count']}, found "
                        + f"{colors.count(req['color'])} {req['color']}; and "
                        + ", ".join(f"{colors.count(c)} {c}" for c in COLORS if c in colors)
                    )
            if "position" in req and matched:
                expected_rel, target_group = req["position"]
                if matched_groups[target_group] is None:
                    correct = matched = False
                    reason.append(f"no target for {classname} to be {expected_rel}")
                else:
                    for obj in found_objects:
                        for target_obj in matched_groups[target_group]:
                            true_rels = relative_position(obj, target_obj, position_threshold)
                            if expected_rel not in true_rels:
                                correct = matched = False
                                reason.append(
                                    f"expected {classname} {expected_rel} target, "
                                    f"found {' and '.join(true_rels)} target"
                                )
                                break
                        if not matched:
                            break
        if matched:
            matched_groups.append(found_objects)
        else:
            matched_groups.append(None)
    for req in metadata.get("exclude", []):
        classname = req["class"]
        if len(objects.get(classname, [])) >= req["count"]:
            correct = False
            reason.append(f"expected {classname}<{req['count']}, found {len(objects[classname])}")
    return correct, "\n".join(reason)


def evaluate_image(
    bbox,
    segm,
    classnames,
    metadata,
    colour_fn,
    threshold=0.3,
    counting_threshold=0.9,
    max_objects=16,
    max_overlap=1.0,
    position_threshold=0.1,
):
    """``bbox``: list over classnames of (n, 5) arrays (mmdet 2.x style); ``segm`` alike or None."""
    detected = {}
    confidence_threshold = threshold if metadata["tag"] != "counting" else counting_threshold
    for index, classname in enumerate(classnames):
        ordering = np.argsort(bbox[index][:, 4])[::-1]
        ordering = ordering[bbox[index][ordering, 4] > confidence_threshold]
        ordering = ordering[:max_objects].tolist()
        detected[classname] = []
        while ordering:
            max_obj = ordering.pop(0)
            detected[classname].append(
                (bbox[index][max_obj], None if segm is None else segm[index][max_obj])
            )
            ordering = [
                obj
                for obj in ordering
                if max_overlap == 1
                or compute_iou(bbox[index][max_obj], bbox[index][obj]) < max_overlap
            ]
        if not detected[classname]:
            del detected[classname]
    return evaluate(detected, metadata, colour_fn, position_threshold)
