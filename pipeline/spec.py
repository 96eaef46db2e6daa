"""What raw/ entries may contain: fields, their types, whether they are required."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    """One field of a raw entry; `column` is its release column when renamed."""

    kind: str  # str | int | float | bool | date | strlist | stages
    required: bool = False
    column: str | None = None


def _f(kind: str, required: bool = False, column: str | None = None) -> Field:
    return Field(kind, required, column)


STAGE = {
    "dataset": _f("str", column="dataset_id"),
    "epochs": _f("int"),
    "iterations": _f("int"),
    "resolution_px": _f("int"),
    "crop_px": _f("int"),
}

SOURCE = {
    "id": _f("str", True, "source_id"),
    "title": _f("str", True),
    "authors": _f("strlist", True),
    "year": _f("int", True),
    "kind": _f("str", True),
    "arxiv_id": _f("str"),
    "arxiv_version": _f("int"),
    "url": _f("str", True),
    "venue": _f("str"),
    "published": _f("date"),
    "code_url": _f("str"),
    "commit": _f("str"),
    "flops_convention": _f("str", True),
}

FAMILY = {
    "id": _f("str", True, "family_id"),
    "name": _f("str", True),
    "source": _f("str", True, "source_id"),
    "token_mixer": _f("str", True, "token_mixer_id"),
    "hierarchical": _f("bool", True),
    "code_url": _f("str"),
}

BACKBONE = {
    "id": _f("str", True, "backbone_id"),
    "family": _f("str", column="_family"),  # only in files without a family block
    "name": _f("str", True),
    "params_m": _f("float", True),
    "params_source": _f("str", True, "params_source_id"),
    "params_where": _f("str", True),
    "timm_arch": _f("str"),
    "hf_id": _f("str"),
    "notes": _f("str"),
}

CHECKPOINT = {
    "id": _f("str", True, "checkpoint_id"),
    "backbone": _f("str", True, "backbone_id"),
    "pretrain_dataset": _f("str", True, "pretrain_dataset_id"),
    "pretrain_method": _f("str", True, "pretrain_method_id"),
    "pretrain_resolution_px": _f("int"),
    "pretrain_epochs": _f("int"),
    "license": _f("str"),
    "weights_url": _f("str"),
    "distillation_teacher": _f("str"),
    "notes": _f("str"),
}

# How a number was measured; defaults per section live in transform.PROTOCOL_DEFAULTS.
_PROTOCOL = {
    "adaptation": _f("str", column="adaptation_id"),
    "test_time": _f("str", column="test_time_id"),
    "test_crops": _f("int"),
    "crop_ratio": _f("float"),
    "eval_split": _f("str"),
    "flops_scope": _f("str", column="gmacs_scope"),
}

_RESULT_COMMON = {
    "checkpoint": _f("str", True, "checkpoint_id"),
    "chain": _f("stages"),
    "eval_dataset": _f("str", True, "eval_dataset_id"),
    **_PROTOCOL,
    "flops_g": _f("float"),
    "where": _f("str", True),
    "tag": _f("str"),
    "notes": _f("str"),
}

CLASSIFICATION = {
    **_RESULT_COMMON,
    "eval_resolution_px": _f("int"),  # omit when the source does not state it
    "top1": _f("float"),
    "top5": _f("float"),
    "mce": _f("float"),
    "timm_model": _f("str"),
    "mmpretrain_model": _f("str"),
}

_METRICS_DET = (
    "box_ap box_ap50 box_ap75 box_ap_s box_ap_m box_ap_l "
    "mask_ap mask_ap50 mask_ap75 mask_ap_s mask_ap_m mask_ap_l"
).split()

DETECTION = {
    **_RESULT_COMMON,
    "head": _f("str", True, "head_id"),
    "input_size": _f("str"),
    **{m: _f("float") for m in _METRICS_DET},
}

SEGMENTATION = {
    **_RESULT_COMMON,
    "head": _f("str", True, "head_id"),
    "crop_px": _f("int"),
    "input_size": _f("str"),
    **{m: _f("float") for m in ("miou_ss", "miou_ms", "pixel_acc", "mean_acc")},
}

THROUGHPUT = {
    "backbone": _f("str", True, "backbone_id"),
    "task": _f("str", column="task_id"),
    "head": _f("str", column="head_id"),
    "resolution_px": _f("int"),
    "input_size": _f("str"),
    "gpu": _f("str", True, "gpu_id"),
    "precision": _f("str", True, "precision_id"),
    "batch_size": _f("int"),
    "memory_layout": _f("str"),
    "compile": _f("str", column="compile_mode"),
    "framework": _f("str"),
    "images_per_s": _f("float", True),
    "where": _f("str", True),
    "context_where": _f("str"),
    "tag": _f("str"),
    "notes": _f("str"),
}

LATENCY = {
    "backbone": _f("str", True, "backbone_id"),
    "task": _f("str", column="task_id"),
    "head": _f("str", column="head_id"),
    "resolution_px": _f("int"),
    "input_size": _f("str"),
    "device": _f("str", True, "device_id"),
    "runtime": _f("str", True, "runtime_id"),
    "precision": _f("str", True, "precision_id"),
    "batch_size": _f("int"),
    "latency_ms": _f("float", True),
    "where": _f("str", True),
    "context_where": _f("str"),
    "tag": _f("str"),
    "notes": _f("str"),
}

RESULT_SECTIONS = {
    "classification": CLASSIFICATION,
    "detection": DETECTION,
    "segmentation": SEGMENTATION,
    "throughput": THROUGHPUT,
    "latency": LATENCY,
}

VOCAB = {
    "tasks": {"id": _f("str", True, "task_id"), "name": _f("str", True)},
    "datasets": {
        "id": _f("str", True, "dataset_id"),
        "name": _f("str", True),
        "tasks": _f("strlist", True),
        "roles": _f("strlist", True),
        "url": _f("str"),
        "standard_training": _f("strlist"),
        "public": _f("bool"),
        "size_images": _f("int"),
        "size_where": _f("str"),
    },
    "heads": {
        "id": _f("str", True, "head_id"),
        "name": _f("str", True),
        "tasks": _f("strlist", True),
        "url": _f("str"),
    },
    "metrics": {
        "id": _f("str", True, "metric_id"),
        "name": _f("str", True),
        "task": _f("str", True, "task_id"),
        "unit": _f("str", True),
        "higher_is_better": _f("bool", True),
    },
    "gpus": {"id": _f("str", True, "gpu_id"), "name": _f("str", True), "vendor": _f("str")},
    "precisions": {"id": _f("str", True, "precision_id"), "name": _f("str", True)},
    "pretraining_methods": {
        "id": _f("str", True, "pretraining_method_id"),
        "name": _f("str", True),
        "kind": _f("str", True),
    },
    "token_mixers": {"id": _f("str", True, "token_mixer_id"), "name": _f("str", True)},
    "adaptations": {
        "id": _f("str", True, "adaptation_id"),
        "name": _f("str", True),
        "description": _f("str", True),
    },
    "test_time_procedures": {
        "id": _f("str", True, "test_time_id"),
        "name": _f("str", True),
        "description": _f("str", True),
    },
    "splits": {"id": _f("str", True, "split_id"), "name": _f("str", True), "kind": _f("str", True)},
    "devices": {"id": _f("str", True, "device_id"), "name": _f("str", True), "kind": _f("str", True)},
    "runtimes": {"id": _f("str", True, "runtime_id"), "name": _f("str", True)},
    "licenses": {
        "id": _f("str", True, "license_id"),
        "name": _f("str", True),
        "commercial_use": _f("bool"),
        "url": _f("str"),
    },
}
