"""The release's tables: columns and types, keys, and what every column means.

This module is the release contract: writers, the SQLite schema, datapackage.json,
Datasette metadata and SemVer checks all read it. Renaming, removing or retyping a
column here is a MAJOR release.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

S, I, F, B, D = pl.String, pl.Int64, pl.Float64, pl.Boolean, pl.Date


@dataclass(frozen=True)
class Table:
    """One release table."""

    name: str
    description: str
    columns: dict[str, type[pl.DataType]]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[tuple[str, str], ...] = ()  # (column, referenced table); refs its key
    label: str | None = None  # the column that names a row (Datasette label column)
    task: str | None = None

    @property
    def schema(self) -> dict[str, type[pl.DataType]]:
        return dict(self.columns)


def _vocab(name: str, key: str, description: str, extra: dict[str, type[pl.DataType]]) -> Table:
    return Table(name, description, {key: S, "name": S, **extra}, (key,), label="name")


VOCAB_TABLES = (
    _vocab("tasks", "task_id", "Tasks a result belongs to.", {}),
    _vocab(
        "datasets",
        "dataset_id",
        "Datasets named anywhere in the data, with the tasks they serve and their roles.",
        {"tasks": S, "roles": S, "url": S, "standard_training": S, "public": B, "size_images": I, "size_where": S},
    ),
    _vocab("heads", "head_id", "Downstream heads (detectors, segmentors).", {"tasks": S, "url": S}),
    _vocab(
        "metrics",
        "metric_id",
        "Metric columns of the result tables, with unit and direction.",
        {"task_id": S, "unit": S, "higher_is_better": B},
    ),
    _vocab("gpus", "gpu_id", "Accelerators throughput was measured on.", {"vendor": S}),
    _vocab("precisions", "precision_id", "Numeric precision of a throughput figure.", {}),
    _vocab(
        "pretraining_methods",
        "pretraining_method_id",
        "How a checkpoint's pretraining stage learned.",
        {"kind": S},
    ),
    _vocab("token_mixers", "token_mixer_id", "What mixes information across positions.", {}),
    _vocab(
        "adaptations",
        "adaptation_id",
        "How a backbone was adapted to the task a result measures (fine-tune, linear probe, kNN...).",
        {"description": S},
    ),
    _vocab(
        "test_time_procedures",
        "test_time_id",
        "Test-time procedures (single crop, multi-crop, single-scale, multi-scale, flip).",
        {"description": S},
    ),
    _vocab("splits", "split_id", "Evaluation splits, each of a kind: val, test_dev or test.", {"kind": S}),
    _vocab("devices", "device_id", "Devices a latency was measured on (phones, edge accelerators, CPUs, GPUs).", {"kind": S}),
    _vocab("runtimes", "runtime_id", "Inference runtimes a latency was measured with.", {}),
    _vocab(
        "licenses",
        "license_id",
        "Weights licences, and whether each allows commercial use (empty: conditions to read).",
        {"commercial_use": B, "url": S},
    ),
)

SOURCES = Table(
    "sources",
    "Documents every number was read from (papers, model-zoo tables).",
    {
        "source_id": S,
        "title": S,
        "authors": S,
        "year": I,
        "kind": S,
        "arxiv_id": S,
        "arxiv_version": I,
        "url": S,
        "venue": S,
        "published": D,
        "code_url": S,
        "commit": S,
        "flops_convention": S,
    },
    ("source_id",),
    label="title",
)

FAMILIES = Table(
    "families",
    "Model families: the identity a paper introduces.",
    {
        "family_id": S,
        "name": S,
        "source_id": S,
        "token_mixer_id": S,
        "hierarchical": B,
        "code_url": S,
    },
    ("family_id",),
    (("source_id", "sources"), ("token_mixer_id", "token_mixers")),
    label="name",
)

BACKBONES = Table(
    "backbones",
    "Architecture variants (e.g. ConvNeXt-T), with parameter counts.",
    {
        "backbone_id": S,
        "family_id": S,
        "name": S,
        "params_m": F,
        "params_source_id": S,
        "params_where": S,
        "timm_arch": S,
        "hf_id": S,
        "notes": S,
        "first_published": D,
    },
    ("backbone_id",),
    (("family_id", "families"), ("params_source_id", "sources")),
    label="name",
)

CHECKPOINTS = Table(
    "checkpoints",
    "A backbone after one pretraining recipe: the unit results hang off.",
    {
        "checkpoint_id": S,
        "backbone_id": S,
        "pretrain_dataset_id": S,
        "pretrain_method_id": S,
        "pretrain_resolution_px": I,
        "pretrain_epochs": I,
        "license": S,
        "weights_url": S,
        "notes": S,
        "distillation_teacher": S,
        "commercial_use": B,
    },
    ("checkpoint_id",),
    (
        ("license", "licenses"),
        ("backbone_id", "backbones"),
        ("pretrain_dataset_id", "datasets"),
        ("pretrain_method_id", "pretraining_methods"),
    ),
    label="checkpoint_id",
)

_RESULT_HEAD = {
    "result_id": S,
    "source_id": S,
    "checkpoint_id": S,
    "chain": S,
    "chain_length": I,
}
_RESULT_TAIL = {
    "gmacs": F,
    "where": S,
    "tag": S,
    "notes": S,
    "adaptation_id": S,
    "test_time_id": S,
    "test_crops": I,
    "crop_ratio": F,
    "split_kind": S,
    "gmacs_scope": S,
    "training_data_seen": S,
    "extra_training_data": B,
    "citations": S,
    "citation_count": I,
    "conflict": B,
    "conflicts_with": S,
}
_RESULT_FKS = (
    ("source_id", "sources"),
    ("checkpoint_id", "checkpoints"),
    ("eval_dataset_id", "datasets"),
    ("adaptation_id", "adaptations"),
    ("test_time_id", "test_time_procedures"),
    ("eval_split", "splits"),
)

BOX = ("box_ap", "box_ap50", "box_ap75", "box_ap_s", "box_ap_m", "box_ap_l")
MASK = ("mask_ap", "mask_ap50", "mask_ap75", "mask_ap_s", "mask_ap_m", "mask_ap_l")
CLASSIFICATION_METRICS = ("top1", "top5", "mce")
SEGMENTATION_METRICS = ("miou_ss", "miou_ms", "pixel_acc", "mean_acc")

CLASSIFICATION = Table(
    "classification_results",
    "Image classification results: one checkpoint, one fine-tuning chain, one evaluation.",
    {
        **_RESULT_HEAD,
        "finetune_dataset_id": S,
        "eval_dataset_id": S,
        "eval_resolution_px": I,
        **{m: F for m in CLASSIFICATION_METRICS},
        "gmacs": F,
        "where": S,
        "tag": S,
        "notes": S,
        "timm_model": S,
        "mmpretrain_model": S,
        "eval_split": S,
        **{k: v for k, v in _RESULT_TAIL.items() if k not in ("gmacs", "where", "tag", "notes")},
    },
    ("result_id",),
    (*_RESULT_FKS, ("finetune_dataset_id", "datasets")),
    label="result_id",
    task="classification",
)

DETECTION = Table(
    "detection_results",
    "COCO-style object detection (box) and instance segmentation (mask) results.",
    {
        **_RESULT_HEAD,
        "head_id": S,
        "train_dataset_id": S,
        "train_epochs": I,
        "eval_dataset_id": S,
        "eval_split": S,
        "input_size": S,
        **{m: F for m in BOX + MASK},
        **_RESULT_TAIL,
    },
    ("result_id",),
    (*_RESULT_FKS, ("head_id", "heads"), ("train_dataset_id", "datasets")),
    label="result_id",
    task="detection",
)

SEGMENTATION = Table(
    "segmentation_results",
    "Semantic segmentation results.",
    {
        **_RESULT_HEAD,
        "head_id": S,
        "train_dataset_id": S,
        "train_iterations": I,
        "eval_dataset_id": S,
        "eval_split": S,
        "crop_px": I,
        "input_size": S,
        **{m: F for m in SEGMENTATION_METRICS},
        **_RESULT_TAIL,
    },
    ("result_id",),
    (*_RESULT_FKS, ("head_id", "heads"), ("train_dataset_id", "datasets")),
    label="result_id",
    task="semantic_segmentation",
)

THROUGHPUT = Table(
    "throughput",
    "Throughput measurements with their context (GPU, precision, batch size).",
    {
        "throughput_id": S,
        "source_id": S,
        "backbone_id": S,
        "task_id": S,
        "head_id": S,
        "resolution_px": I,
        "input_size": S,
        "gpu_id": S,
        "precision_id": S,
        "batch_size": I,
        "images_per_s": F,
        "where": S,
        "tag": S,
        "notes": S,
        "memory_layout": S,
        "compile_mode": S,
        "framework": S,
        "context_where": S,
    },
    ("throughput_id",),
    (
        ("source_id", "sources"),
        ("backbone_id", "backbones"),
        ("task_id", "tasks"),
        ("head_id", "heads"),
        ("gpu_id", "gpus"),
        ("precision_id", "precisions"),
    ),
    label="throughput_id",
)

LATENCY = Table(
    "latency",
    "Latency measurements (milliseconds per batch) with their context: device, runtime, precision, batch size.",
    {
        "latency_id": S,
        "source_id": S,
        "backbone_id": S,
        "task_id": S,
        "head_id": S,
        "resolution_px": I,
        "input_size": S,
        "device_id": S,
        "runtime_id": S,
        "precision_id": S,
        "batch_size": I,
        "latency_ms": F,
        "where": S,
        "context_where": S,
        "tag": S,
        "notes": S,
    },
    ("latency_id",),
    (
        ("source_id", "sources"),
        ("backbone_id", "backbones"),
        ("task_id", "tasks"),
        ("head_id", "heads"),
        ("device_id", "devices"),
        ("runtime_id", "runtimes"),
        ("precision_id", "precisions"),
    ),
    label="latency_id",
)

CITATIONS = Table(
    "citations",
    "Every document that reports a result's value: one measurement, many citations (rank 1 is the primary, "
    "the result's own source_id).",
    {"result_id": S, "rank": I, "source_id": S, "where": S},
    ("result_id", "rank"),
    (("source_id", "sources"),),
)

CHAIN_STAGES = Table(
    "chain_stages",
    "The ordered training stages after pretraining behind every result.",
    {
        "result_id": S,
        "stage": I,
        "dataset_id": S,
        "epochs": I,
        "iterations": I,
        "resolution_px": I,
        "crop_px": I,
    },
    ("result_id", "stage"),
    (("dataset_id", "datasets"),),
)

RESULT_TABLES = (CLASSIFICATION, DETECTION, SEGMENTATION)
TABLES: tuple[Table, ...] = (
    *VOCAB_TABLES,
    SOURCES,
    FAMILIES,
    BACKBONES,
    CHECKPOINTS,
    *RESULT_TABLES,
    THROUGHPUT,
    LATENCY,
    CITATIONS,
    CHAIN_STAGES,
)
TABLES_BY_NAME = {t.name: t for t in TABLES}

COLUMN_DOCS: dict[str, str] = {
    "name": "Display name.",
    "source_id": "The document the row was read from (sources.source_id).",
    "family_id": "Model family (families.family_id).",
    "backbone_id": "Architecture variant (backbones.backbone_id).",
    "checkpoint_id": "Backbone after one pretraining recipe (checkpoints.checkpoint_id).",
    "result_id": "Derived key: source/task/checkpoint/[head/]chain/evaluation[/tag].",
    "throughput_id": "Derived key: source/throughput/backbone/task/[head/]size/gpu/precision/batch.",
    "chain": "Training stages after pretraining, in order, as text ('-' when none).",
    "chain_length": "Number of training stages after pretraining.",
    "finetune_dataset_id": "Dataset of the last fine-tuning stage, if any.",
    "eval_dataset_id": "Evaluation dataset (datasets.dataset_id).",
    "eval_resolution_px": "Evaluation image side, pixels.",
    "eval_split": "Evaluation split (e.g. val2017, test-dev).",
    "top1": "Top-1 accuracy, %.",
    "top5": "Top-5 accuracy, %.",
    "mce": "Mean corruption error (ImageNet-C mCE; ImageNet-C-bar corruption error), % (lower is better).",
    "gmacs": "Compute per image in GMACs (billions of multiply-accumulates), "
    "normalised from the source's 'FLOPs' using its declared convention.",
    "where": "Where in the source the number is (table, figure, section). A reserved word in SQL: write \"where\" "
    "in queries on the tables; the readable views also offer it as where_in_source.",
    "tag": "Optional tag telling apart two results of one source that share everything else.",
    "notes": "Curator's notes.",
    "timm_model": "timm 'arch.tag' name of these weights, if any.",
    "mmpretrain_model": "mmpretrain metafile model name, if any.",
    "head_id": "Downstream head (heads.head_id).",
    "train_dataset_id": "Dataset of the last (downstream) training stage.",
    "train_epochs": "Epochs of the downstream training stage (12 = 1x schedule, 36 = 3x).",
    "train_iterations": "Iterations of the downstream training stage.",
    "input_size": "Input size (WxH) the compute or throughput was measured at.",
    "crop_px": "Training crop side, pixels.",
    "miou_ss": "Single-scale mIoU, %.",
    "miou_ms": "Multi-scale (+flip) mIoU, %.",
    "pixel_acc": "Pixel accuracy, %.",
    "mean_acc": "Mean class accuracy, %.",
    "task_id": "Task (tasks.task_id).",
    "resolution_px": "Image side, pixels.",
    "gpu_id": "Accelerator (gpus.gpu_id); 'unknown' when the source does not say.",
    "precision_id": "Numeric precision (precisions.precision_id); 'unknown' when not stated.",
    "batch_size": "Batch size; empty when the source does not state it.",
    "images_per_s": "Throughput, images per second.",
    "stage": "Position of the stage in the chain, from 1.",
    "dataset_id": "Dataset (datasets.dataset_id).",
    "epochs": "Epochs of the stage.",
    "iterations": "Iterations of the stage.",
    "title": "Title of the document.",
    "authors": "Authors, separated by '; '.",
    "year": "Year of first publication.",
    "kind": "Kind of document or method.",
    "arxiv_id": "arXiv identifier.",
    "arxiv_version": "arXiv version the numbers were read from.",
    "url": "Web address.",
    "venue": "Venue of publication.",
    "published": "Date of the document: a paper's first public version (arXiv v1), a model zoo's pinned commit.",
    "code_url": "Code repository.",
    "commit": "Repository commit the numbers were read at (model-zoo documents).",
    "flops_convention": "What the document's 'FLOPs' mean: macs (multiply-accumulates) or flops "
    "(2 x MACs).",
    "token_mixer_id": "Token mixer (token_mixers.token_mixer_id).",
    "hierarchical": "True for multi-stage pyramids, false for isotropic models.",
    "params_m": "Parameters of the backbone alone (no detector or segmentor head), millions.",
    "params_source_id": "Document the parameter count was read from.",
    "params_where": "Where in that document.",
    "timm_arch": "timm architecture name.",
    "hf_id": "Hugging Face model id.",
    "pretrain_dataset_id": "Pretraining dataset.",
    "pretrain_method_id": "Pretraining method (pretraining_methods.pretraining_method_id).",
    "pretrain_resolution_px": "Pretraining image side, pixels.",
    "pretrain_epochs": "Pretraining epochs.",
    "license": "Licence of the weights.",
    "weights_url": "Where the weights can be downloaded.",
    "tasks": "Tasks served, comma-separated.",
    "roles": "Roles (pretraining, training, evaluation), comma-separated.",
    "unit": "Unit of the metric.",
    "higher_is_better": "True when a higher value is better.",
    "vendor": "Vendor.",
    "metric_id": "Metric column name.",
    "dataset_ids": "Datasets.",
    "gpu": "Accelerator.",
    "pretraining_method_id": "Pretraining method id.",
    "adaptation_id": "How the backbone was adapted to the task (adaptations.adaptation_id): fine_tune, "
    "linear_probe, knn, attentive_probe, zero_shot, frozen_head.",
    "test_time_id": "Test-time procedure (test_time_procedures.test_time_id). For segmentation it describes "
    "miou_ms; miou_ss is single-scale by definition.",
    "test_crops": "Number of crops of a multi-crop evaluation (e.g. 10); empty otherwise.",
    "crop_ratio": "Centre-crop ratio at test time, where the source states it (0.875 = 224 from 256).",
    "split_kind": "Kind of the evaluation split: val, test_dev or test.",
    "split_id": "Evaluation split id.",
    "gmacs_scope": "What gmacs counts: backbone (the backbone alone) or whole_model (the whole detector or "
    "segmentor, head included). params_m is always the backbone's.",
    "training_data_seen": "Every dataset the weights saw before this evaluation (pretraining, then each chain "
    "stage), comma-separated, in order.",
    "extra_training_data": "True when the weights saw data beyond the evaluation dataset's standard training "
    "set (datasets.standard_training), as Papers with Code's 'extra training data'.",
    "citations": "Every document reporting this value, primary first, as 'source_id (where)', separated by '; '.",
    "citation_count": "Number of documents reporting this value.",
    "conflict": "True when another document reports a different value for the same checkpoint, chain, "
    "evaluation and protocol (see conflicts_with).",
    "conflicts_with": "Result ids reporting a different value for the same measurement, separated by '; '.",
    "rank": "Citation order: 1 is the primary document (papers before model zoos, then earliest).",
    "first_published": "Date of the backbone's first public document (earliest date among the documents "
    "that report it).",
    "distillation_teacher": "The teacher a distilled checkpoint learned from (a checkpoint id, or its name).",
    "commercial_use": "True when the weights' licence allows commercial use, false when it forbids it, empty when "
    "the licence is unknown or has conditions to read (licenses.commercial_use).",
    "license_id": "Licence name as documents write it.",
    "standard_training": "For an evaluation dataset: the training data its benchmark takes as standard "
    "(comma-separated); anything beyond is extra training data.",
    "public": "True when the dataset is publicly available, false when private.",
    "size_images": "Number of images, as a primary document states it.",
    "size_where": "Where that size is stated (source id and place).",
    "description": "What the value means.",
    "memory_layout": "Memory layout of the timed run: nchw or nhwc (channels_last); empty when not stated.",
    "compile_mode": "eager or compiled (e.g. torch.compile); empty when not stated.",
    "framework": "Framework and version of the timed run, as the source prints it.",
    "context_where": "Where in the source the GPU, precision or batch size is stated, when not beside the number.",
    "latency_id": "Derived key: source/latency/backbone/task/[head/]size/device/runtime/precision/batch.",
    "device_id": "Device (devices.device_id); 'unknown' when the source does not say.",
    "runtime_id": "Inference runtime (runtimes.runtime_id); 'unknown' when the source does not say.",
    "latency_ms": "Latency, milliseconds per batch.",
}
for _m in BOX + MASK:
    COLUMN_DOCS[_m] = "COCO-style " + _m.replace("_", " ").replace("ap", "AP") + " (0-100)."
