"""What every metric and column means: the text of the glossary page.

Metric names, units and directions come from the release's `metrics` table; the definitions below
say how each is computed. A test fails when the release has a metric this module does not define.
"""

from __future__ import annotations

from typing import Any

from viewer.data import Release

METRIC_DEFINITIONS = {
    "top1": "The share of evaluation images whose highest-scoring predicted class is the correct label.",
    "top5": "The share of evaluation images whose correct label is among the five highest-scoring classes.",
    "mce": "Mean corruption error on ImageNet-C: for each corruption type, the top-1 error summed over the five "
           "severities and divided by AlexNet's error on the same corruption, then averaged over the corruption "
           "types. 100% equals AlexNet; lower is better.",
    "box_ap": "COCO average precision of bounding boxes: precision averaged over recall levels, over the ten IoU "
              "thresholds 0.50, 0.55, ..., 0.95 and over the categories, times 100.",
    "box_ap50": "Box average precision at a single IoU threshold of 0.50 (the lenient PASCAL VOC criterion).",
    "box_ap75": "Box average precision at a single IoU threshold of 0.75 (a strict localisation criterion).",
    "box_ap_s": "Box AP on small objects: area under 32x32 pixels.",
    "box_ap_m": "Box AP on medium objects: area between 32x32 and 96x96 pixels.",
    "box_ap_l": "Box AP on large objects: area over 96x96 pixels.",
    "mask_ap": "COCO average precision of instance masks: as box AP, with the IoU of predicted and true masks.",
    "mask_ap50": "Mask average precision at a single IoU threshold of 0.50.",
    "mask_ap75": "Mask average precision at a single IoU threshold of 0.75.",
    "mask_ap_s": "Mask AP on small objects: area under 32x32 pixels.",
    "mask_ap_m": "Mask AP on medium objects: area between 32x32 and 96x96 pixels.",
    "mask_ap_l": "Mask AP on large objects: area over 96x96 pixels.",
    "miou_ss": "Mean intersection over union: for each class, the pixels both predicted and labelled as it, divided "
               "by the pixels predicted or labelled as it; averaged over classes. Single-scale: one input scale, no flip.",
    "miou_ms": "Mean intersection over union with predictions averaged over several rescaled copies of each image "
               "and their horizontal flips (the test-time procedure is stated with each result).",
    "pixel_acc": "The share of pixels whose predicted class is correct.",
    "mean_acc": "Pixel accuracy computed for each class separately, then averaged over classes.",
}

TERMS: tuple[tuple[str, str, str], ...] = (
    ("like-with-like", "Like with like",
     "Leaderboards, comparisons and the explorer start by comparing fully fine-tuned results, evaluated with the "
     "metric's standard test-time procedure (one centre crop, or one scale) on a validation split. Other protocols "
     "are one filter away, and a view that mixes them says so."),
    ("checkpoint", "Checkpoint",
     "One backbone after one pretraining recipe (data, method, resolution, epochs): the unit results hang off."),
    ("chain", "Fine-tuning chain",
     "The training stages after pretraining, in order: dataset, epochs or iterations, resolution."),
    ("head", "Head",
     "The detector or segmentor built on the backbone (Mask R-CNN, UperNet...). Downstream numbers compare "
     "backbones fairly only with the same head and schedule."),
    ("schedule", "Schedule",
     "How long the head was trained: epochs for detection (12 = 1x, 36 = 3x), iterations for segmentation."),
    ("adaptation", "Protocol (adaptation)",
     "How the backbone was adapted to the task: every weight trained, a probe on frozen features, no training at all."),
    ("test-time", "Test-time procedure",
     "How an image is presented at evaluation: one crop or several, one scale or several, with or without flips."),
    ("split", "Split",
     "The evaluation split: a validation set, COCO test-dev (scored by the evaluation server) or a test set."),
    ("extra-data", "Extra training data",
     "True when the weights saw, at any stage, data beyond the evaluation dataset's standard training data "
     "(ImageNet-22k for an ImageNet-1k result, Objects365 for a COCO result)."),
    ("training-data-seen", "Training data seen", "Every dataset the weights saw: the pretraining data, then each chain stage's."),
    ("params", "Parameters (M)", "Millions of parameters of the backbone alone, never of the whole detector."),
    ("gmacs", "GMACs",
     "Billions of multiply-accumulates per image at the stated resolution. Papers that print true FLOPs (two per "
     "multiply-accumulate) are halved, so every figure is in one unit."),
    ("compute-scope", "Compute scope",
     "Whether a GMACs figure counts the backbone alone (classification) or the whole detector or segmentor at its "
     "input size (downstream)."),
    ("throughput", "Throughput (images/s)",
     "Images per second as the source measured it, on one GPU, in one precision, at one batch size. Figures from "
     "different GPUs or precisions are never mixed; an unstated context is recorded as 'Not stated'."),
    ("latency", "Latency (ms)",
     "Milliseconds per image on a named device and runtime (a phone, an edge board). Kept apart from throughput and "
     "never converted into it."),
    ("precision", "Precision",
     "The number format of a speed measurement: FP32, TF32, pure FP16 or BF16, automatic mixed precision (AMP), INT8."),
    ("conflict", "Values differ",
     "Two documents report different values for the same measurement of the same checkpoint. Both are kept, each "
     "marked and naming the other."),
    ("citations", "Citations", "Every document that reports the same value for a measurement; the first is the source shown."),
    ("pareto", "Pareto frontier", "The points no other point beats on both axes at once."),
    ("rank", "Rank", "Position on a leaderboard; equal values share a rank (1, 2, 2, 4)."),
)


def metric_entries(rel: Release) -> list[dict[str, Any]]:
    """Every metric of the release with its task, unit, direction and definition."""
    order = list(METRIC_DEFINITIONS)  # headline metrics first within each task
    tasks = rel.tables["tasks"].get_column("task_id").to_list()
    rows = sorted(rel.tables["metrics"].to_dicts(), key=lambda r: (
        tasks.index(r["task_id"]) if r["task_id"] in tasks else len(tasks),
        order.index(r["metric_id"]) if r["metric_id"] in order else len(order), r["metric_id"]))
    return [{**r, "task": rel.name("tasks", r["task_id"]), "definition": METRIC_DEFINITIONS.get(r["metric_id"], "")} for r in rows]


def protocol_entries(rel: Release) -> dict[str, list[dict[str, Any]]]:
    """The protocol vocabularies with their descriptions, from the release."""
    return {
        "Protocols (adaptation)": rel.tables["adaptations"].rename({"adaptation_id": "id"}).to_dicts(),
        "Test-time procedures": rel.tables["test_time_procedures"].rename({"test_time_id": "id"}).to_dicts(),
        "Splits": [{"id": r["split_id"], "name": r["name"], "description": f"kind: {r['kind'].replace('_', '-')}"}
                   for r in rel.tables["splits"].to_dicts()],
    }
