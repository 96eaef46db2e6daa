"""Protocol words in a result's tag or notes are carried by its protocol fields too.

How a number was measured lives in controlled fields (adaptation, test_time, eval_split), never only in
free text: a note saying "linear probe" on a result whose adaptation is fine_tune would let a linear probe
sit among fine-tuned numbers unmarked.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from pipeline.build import validated_tables

FROZEN = {"linear_probe", "knn", "attentive_probe", "zero_shot", "frozen_head"}
MULTI_SCALE = {"multi_scale", "multi_scale_flip", "tta"}
# (pattern, where it is looked for, the fields that must say it, what to write)
RULES = [
    (r"\blinear[- ]prob|\blinear classifier|\blinear (evaluation|setup|layer)\b|\bfrozen (backbone|features|encoder|trunk)",
     "notes", lambda r: r["adaptation_id"] in FROZEN, "adaptation: linear_probe (or frozen_head)"),
    (r"^linear", "tag", lambda r: r["adaptation_id"] in FROZEN, "adaptation: linear_probe (or frozen_head)"),
    (r"\bk-?nn\b", "both", lambda r: r["adaptation_id"] == "knn", "adaptation: knn"),
    (r"zero[- ]shot", "both", lambda r: r["adaptation_id"] == "zero_shot", "adaptation: zero_shot"),
    (r"\b\d+-?crop\b|multi-crop", "both", lambda r: r["test_time_id"] == "multi_crop", "test_time: multi_crop"),
    (r"^test[-_]?dev|\bCOCO test-dev\b", "both", lambda r: r["split_kind"] == "test_dev", "eval_split: test-dev"),
    (r"^(ms|multiscale|tta)", "tag", lambda r: r["test_time_id"] in MULTI_SCALE,
     "test_time: multi_scale, multi_scale_flip or tta"),
    (r"multi-?scale (test|testing|inference|evaluation)|(?<!no )test-time augmentation|\bw/ TTA\b|\bms\+flip",
     "notes", lambda r: r["test_time_id"] in MULTI_SCALE, "test_time: multi_scale, multi_scale_flip or tta"),
    (r"flip(ping)? (is )?not mentioned|without mention of flipping|whether flipping",
     "notes", lambda r: r["test_time_id"] == "multi_scale", "test_time: multi_scale"),
]


@pytest.fixture(scope="module")
def frames() -> dict[str, pl.DataFrame]:
    return validated_tables(Path("raw"))


def offenders(frame: pl.DataFrame) -> list[str]:
    """Results whose tag or notes carry a protocol word that their fields do not."""
    found = []
    for row in frame.iter_rows(named=True):
        texts = {"tag": [row["tag"] or ""], "notes": [row["notes"] or ""]}
        texts["both"] = texts["tag"] + texts["notes"]
        for pattern, scope, ok, fix in RULES:
            if any(re.search(pattern, t, re.I) for t in texts[scope]) and not ok(row):
                found.append(f"{row['result_id']}: says /{pattern}/ but its fields do not; write {fix}")
    return found


@pytest.mark.parametrize("table", ["classification_results", "detection_results", "segmentation_results"])
def test_no_result_hides_its_protocol_in_free_text(frames: dict[str, pl.DataFrame], table: str) -> None:
    assert offenders(frames[table]) == []


def test_the_check_catches_a_linear_probe_tagged_only_in_notes() -> None:
    row = {"result_id": "x", "tag": None, "notes": "Linear probe on frozen features.", "adaptation_id": "fine_tune",
           "test_time_id": "single_crop", "split_kind": "val"}
    frame = pl.DataFrame([row])
    assert offenders(frame) == [
        f"x: says /{RULES[0][0]}/ but its fields do not; write adaptation: linear_probe (or frozen_head)"
    ]
