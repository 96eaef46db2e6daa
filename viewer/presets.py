"""One-click answers to the common questions: links to explorer, leaderboard and compare states.

Each preset is data: a question and the states that answer it. A test opens every link against the
latest release and requires points or rows, so a preset that stops answering fails the suite.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from flask import url_for


@dataclass(frozen=True)
class Link:
    """One state: the explorer (`target` 'explorer'), a leaderboard ('leaderboard', with dataset and
    metric) or a comparison ('compare')."""

    label: str
    target: str
    query: tuple[tuple[str, str], ...]
    dataset: str = ""
    metric: str = ""


@dataclass(frozen=True)
class Preset:
    preset_id: str
    question: str
    answer: str
    links: tuple[Link, ...]


TOP1 = (("y", "result"), ("y_task", "classification"), ("y_dataset", "imagenet_1k"), ("y_metric", "top1"))
COCO_AP = (("y", "result"), ("y_task", "detection"), ("y_dataset", "coco"), ("y_metric", "box_ap"))
ADE_MIOU = (("y", "result"), ("y_task", "semantic_segmentation"), ("y_dataset", "ade20k"), ("y_metric", "miou_ms"))

PRESETS: tuple[Preset, ...] = (
    Preset("fast_on_v100", "Which ImageNet-1k model is most accurate above 1,000 images/s on a V100?",
           "Fine-tuned, single-crop ImageNet-1k top-1 of backbones with a V100 throughput figure of at least 1,000 "
           "images/s at the result's resolution, in the precision most V100 figures use.",
           (Link("Leaderboard", "leaderboard", (("gpu", "v100"), ("min_ips", "1000")), "imagenet_1k", "top1"),
            Link("Plot: top-1 vs V100 throughput", "explorer",
                 (*TOP1, ("x", "throughput"), ("x_gpu", "v100"), ("x_scale", "log"), ("x_min", "1000"), ("pareto", "1"))))),
    Preset("swin_vs_convnext_coco", "Swin or ConvNeXt on COCO, with the same head and schedule?",
           "COCO box AP of both families with Cascade Mask R-CNN trained for 36 epochs (3x), so only the backbone differs.",
           (Link("Plot: box AP vs GMACs", "explorer",
                 (*COCO_AP, ("y_head", "cascade_mask_rcnn"), ("y_schedule", "36"), ("x", "gmacs"), ("x_scale", "log"),
                  ("family", "convnext"), ("family", "swin"))),
            Link("Leaderboard", "leaderboard", (("head", "cascade_mask_rcnn"), ("schedule", "36"), ("family", "convnext"),
                                                ("family", "swin")), "coco", "box_ap"),
            Link("Swin-T and ConvNeXt-T side by side", "compare", (("m", "swin_t"), ("m", "convnext_t"))))),
    Preset("top1_vs_box_ap", "Does ImageNet top-1 predict COCO box AP?",
           "Each checkpoint's best ImageNet-1k top-1 against its best COCO box AP, both fine-tuned.",
           (Link("Plot: top-1 vs box AP", "explorer",
                 (*TOP1, ("x", "result"), ("x_task", "detection"), ("x_dataset", "coco"), ("x_metric", "box_ap"))),)),
    Preset("ade20k_upernet_160k", "Which backbone is best on ADE20K with UperNet at 160k iterations?",
           "Multi-scale mIoU on ADE20K val, UperNet head, 160,000 training iterations: the most common setting.",
           (Link("Leaderboard", "leaderboard", (("head", "upernet"), ("schedule", "160000")), "ade20k", "miou_ms"),
            Link("Plot: mIoU vs GMACs", "explorer",
                 (*ADE_MIOU, ("y_head", "upernet"), ("y_schedule", "160000"), ("x", "gmacs"), ("x_scale", "log"))))),
    Preset("linear_probe", "Which foundation encoders have the best frozen features?",
           "ImageNet-1k top-1 of a linear classifier trained on frozen features (and the attentive-probe and kNN boards).",
           (Link("Linear-probe leaderboard", "leaderboard", (("adaptation", "linear_probe"),), "imagenet_1k", "top1"),
            Link("Attentive probe", "leaderboard", (("adaptation", "attentive_probe"),), "imagenet_1k", "top1"),
            Link("kNN", "leaderboard", (("adaptation", "knn"),), "imagenet_1k", "top1"),
            Link("Plot: linear probe vs parameters", "explorer",
                 (*TOP1, ("x", "params"), ("x_scale", "log"), ("adaptation", "linear_probe"))))),
    Preset("zero_shot", "Which image-text model is best zero-shot on ImageNet?",
           "ImageNet-1k top-1 with classes given as text prompts, no training on ImageNet.",
           (Link("Zero-shot leaderboard", "leaderboard", (("adaptation", "zero_shot"),), "imagenet_1k", "top1"),
            Link("Plot: zero-shot vs parameters", "explorer",
                 (*TOP1, ("x", "params"), ("x_scale", "log"), ("adaptation", "zero_shot"))))),
    Preset("phone_latency", "Efficient models: top-1 against latency on a phone",
           "ImageNet-1k top-1 against milliseconds per image on a phone, on one device and runtime at a time, as the "
           "sources measured it; "
           "the Pareto frontier marks the models nothing beats on both.",
           (Link("Plot: top-1 vs iPhone 12 latency", "explorer",
                 (*TOP1, ("x", "latency"), ("x_device", "iphone_12"), ("x_runtime", "coreml"), ("pareto", "1"))),
            Link("Plot: top-1 vs Pixel 3 latency (TensorFlow Lite)", "explorer",
                 (*TOP1, ("x", "latency"), ("x_device", "pixel_3"), ("x_runtime", "tflite"), ("pareto", "1"))))),
    Preset("small_in1k_only", "Best ImageNet-1k model under 5 GMACs trained on ImageNet-1k alone?",
           "No extra training data at any stage, at most 5 GMACs per image.",
           (Link("Leaderboard", "leaderboard", (("extra", "no"), ("max_gmacs", "5")), "imagenet_1k", "top1"),
            Link("Plot: top-1 vs GMACs", "explorer",
                 (*TOP1, ("x", "gmacs"), ("x_scale", "log"), ("x_max", "5"), ("extra", "no"), ("pareto", "1"))))),
    Preset("accuracy_per_parameter", "Most accurate for its size?",
           "ImageNet-1k top-1 against parameters, with the Pareto frontier.",
           (Link("Plot: top-1 vs parameters", "explorer", (*TOP1, ("x", "params"), ("x_scale", "log"), ("pareto", "1"))),)),
    Preset("state_of_the_art", "How has the state of the art moved?",
           "ImageNet-1k top-1 against the date of each backbone's first public document; the frontier is the record over time.",
           (Link("Plot: top-1 over time", "explorer", (*TOP1, ("x", "date"), ("pareto", "1"))),)),
)


def preset_url(link: Link) -> str:
    """The address of a preset's state."""
    query = urlencode(link.query)
    if link.target == "leaderboard":
        base = url_for("discover.leaderboard", dataset_id=link.dataset, metric_id=link.metric)
    elif link.target == "compare":
        base = url_for("discover.compare")
    else:
        base = url_for("explorer.index")
    return f"{base}?{query}" if query else base
