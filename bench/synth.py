"""Generate realistic synthetic raw/ sets for the scale benchmarks.

Many families, sources, backbones and checkpoints; every task; throughput figures with
known and unknown contexts. Deterministic for a given size and seed. Compute grows with
resolution squared per backbone, so the FLOPs/MACs check stays quiet as it should.

    python -m bench.synth --results 40000 --out bench/out/synth-40000
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
RESULTS_PER_SOURCE = 100
BACKBONES_PER_FAMILY = 5
MIXERS = ["convolution", "attention", "state_space", "mlp", "hybrid", "pooling"]
METHODS = ["supervised", "supervised_distillation", "mae", "beit", "dinov2", "clip", "fcmae"]
GPUS = ["v100", "a100", "h100", "rtx_3090", "t4", "unknown"]
PRECISIONS = ["fp32", "amp_fp16", "tf32", "bf16", "unknown"]
DET_HEADS = ["mask_rcnn", "cascade_mask_rcnn", "retinanet", "faster_rcnn", "atss"]
SEG_HEADS = ["upernet", "semantic_fpn", "mask2former"]
CLS_EVAL = ["imagenet_1k", "imagenet_1k", "imagenet_1k", "imagenet_v2", "imagenet_real", "imagenet_a", "imagenet_r"]


def _dump(path: Path, data: object) -> None:
    path.write_text(yaml.safe_dump(data, sort_keys=False, width=120))


def generate(n_results: int, out: Path, seed: int = 0) -> Path:
    """Write a complete raw/ tree with about n_results results (plus throughput) into `out`."""
    rng = random.Random(seed)
    if out.exists():
        shutil.rmtree(out)
    for sub in ("sources", "families", "results"):
        (out / sub).mkdir(parents=True)
    shutil.copytree(ROOT / "raw" / "vocab", out / "vocab")
    n_sources = max(1, n_results // RESULTS_PER_SOURCE)
    n_families = max(2, n_sources // 10)
    families = []
    for f in range(n_families):
        fam = f"fam{f:05d}"
        backbones, checkpoints = [], []
        for b in range(BACKBONES_PER_FAMILY):
            bid = f"{fam}_b{b}"
            params = round(rng.uniform(5, 300), 1)
            base = round(params * rng.uniform(0.1, 0.4), 2)
            backbones.append({"id": bid, "name": f"Fam{f}-B{b}", "params_m": params,
                              "params_source": f"src{f * 10:06d}", "params_where": "Table 1",
                              "timm_arch": f"{fam}_b{b}"})
            cks = []
            for tag, ds, method in (("in1k", "imagenet_1k", "supervised"), ("in22k", "imagenet_22k", "supervised"),
                                    ("ssl", "imagenet_1k", rng.choice(METHODS[2:]))):
                cid = f"{bid}.{tag}"
                checkpoints.append({"id": cid, "backbone": bid, "pretrain_dataset": ds, "pretrain_method": method,
                                    "pretrain_resolution_px": 224, "pretrain_epochs": rng.choice([90, 300, 800])})
                cks.append(cid)
            families.append((fam, bid, base, cks))
        _dump(out / "families" / f"{fam}.yaml", {
            "family": {"id": fam, "name": f"Family {f}", "source": f"src{f * 10:06d}",
                       "token_mixer": rng.choice(MIXERS), "hierarchical": rng.random() < 0.6},
            "backbones": backbones, "checkpoints": checkpoints})
    for s in range(n_sources):
        sid = f"src{s:06d}"
        year = 2015 + s % 11
        _dump(out / "sources" / f"{sid}.yaml", {
            "id": sid, "title": f"Synthetic paper {s}", "authors": ["A. Author", "B. Author"], "year": year,
            "kind": "paper", "arxiv_id": f"{year % 100:02d}{1 + s % 12:02d}.{s % 100000:05d}", "arxiv_version": 1,
            "url": f"https://arxiv.org/abs/{s}", "published": f"{year}-{1 + s % 12:02d}-{1 + s % 28:02d}",
            "flops_convention": "macs"})
        owner = families[(s // 10 * BACKBONES_PER_FAMILY + s % BACKBONES_PER_FAMILY) % len(families)]
        cls, det, seg, tput = [], [], [], []
        for i in range(RESULTS_PER_SOURCE):
            _fam, bid, base, cks = families[rng.randrange(len(families))] if rng.random() < 0.3 else owner
            ck = rng.choice(cks)
            kind = rng.random()
            if kind < 0.6:
                res = rng.choice([224, 224, 256, 288, 384, 512])
                chain = [] if ck.endswith("in1k") and res == 224 else [{"dataset": "imagenet_1k", "epochs": 30, "resolution_px": res}]
                cls.append({"checkpoint": ck, "chain": chain, "eval_dataset": rng.choice(CLS_EVAL),
                            "eval_resolution_px": res, "top1": round(rng.uniform(60, 90), 1),
                            "top5": round(rng.uniform(85, 99), 1), "flops_g": round(base * (res / 224) ** 2, 2),
                            "where": f"Table {1 + i % 6}", "tag": f"r{i}"})
            elif kind < 0.82:
                ep = rng.choice([12, 36])
                det.append({"checkpoint": ck, "head": rng.choice(DET_HEADS), "chain": [{"dataset": "coco", "epochs": ep}],
                            "eval_dataset": "coco", "input_size": "1280x800", "box_ap": round(rng.uniform(30, 60), 1),
                            "box_ap50": round(rng.uniform(50, 80), 1), "mask_ap": round(rng.uniform(28, 52), 1),
                            "flops_g": round(base * 60, 1), "where": f"Table {1 + i % 6}", "tag": f"r{i}"})
            else:
                crop = rng.choice([512, 640])
                seg.append({"checkpoint": ck, "head": rng.choice(SEG_HEADS),
                            "chain": [{"dataset": "ade20k", "iterations": 160000, "crop_px": crop}],
                            "eval_dataset": "ade20k", "crop_px": crop, "miou_ss": round(rng.uniform(35, 60), 1),
                            "miou_ms": round(rng.uniform(36, 61), 1), "flops_g": round(base * 200, 1),
                            "where": f"Table {1 + i % 6}", "tag": f"r{i}"})
            if i % 20 == 0:
                entry = {"backbone": bid, "resolution_px": 224, "gpu": rng.choice(GPUS),
                         "precision": rng.choice(PRECISIONS), "images_per_s": round(rng.uniform(50, 5000), 1),
                         "where": "Table 1", "tag": f"t{i}"}
                if rng.random() < 0.7:
                    entry["batch_size"] = rng.choice([1, 64, 256])
                tput.append(entry)
        _dump(out / "results" / f"{sid}.yaml", {"source": sid, "classification": cls, "detection": det,
                                                "segmentation": seg, "throughput": tput})
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--results", type=int, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    generate(args.results, args.out, args.seed)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
