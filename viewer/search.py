"""Search over the release's named things: backbones, families, checkpoints, datasets, heads, sources.

Pure: the index is built from a release's tables and queried without Flask. A query matches an entry
when every word of it occurs in the entry's name, id or aliases, compared without case, spaces or
punctuation, so "convnext t", "ConvNeXt-T" and "convnext_t" find the same backbone.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from viewer.data import Release

KINDS = ("backbone", "family", "checkpoint", "dataset", "head", "source")
KIND_LABELS = {"backbone": "Backbones", "family": "Families", "checkpoint": "Checkpoints", "dataset": "Datasets",
               "head": "Heads", "source": "Sources"}
MAX_QUERY = 100  # characters; longer queries are a 400


@dataclass(frozen=True)
class Entry:
    """One searchable thing and where its page is."""

    kind: str
    key: str
    name: str
    detail: str
    endpoint: str
    args: tuple[tuple[str, str], ...]
    anchor: str
    name_key: str  # the name, normalised
    key_norm: str  # the id, normalised
    name_words: tuple[str, ...]  # the name's words, lower case
    haystack: str  # name, id and aliases, normalised, separated by '|'


@dataclass(frozen=True)
class Hit:
    entry: Entry
    score: int  # 0 exact name or id, 1 name starts with the query, 2 a word starts with it, 3 anywhere


def normalise(text: str) -> str:
    """Lower case, accents dropped, only letters and digits kept."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", plain.lower())


def _words(text: str) -> list[str]:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return [w for w in re.split(r"[^a-z0-9]+", plain) if w]


def _entry(kind: str, key: str, name: str, detail: str, endpoint: str, arg: str, aliases: list[str | None],
           anchor: str = "", page_key: str | None = None) -> Entry:
    texts = [name, key, *(a for a in aliases if a)]
    return Entry(kind, key, name, detail, endpoint, ((arg, page_key or key),), anchor, normalise(name), normalise(key),
                 tuple(_words(name)), "|".join(normalise(t) for t in texts))


def build_index(rel: Release) -> list[Entry]:
    """Every backbone, family, checkpoint, dataset, head and source of the release, in kind order."""
    t = rel.tables
    out: list[Entry] = []
    for r in t["backbones"].sort("name").iter_rows(named=True):
        detail = f"{rel.name('families', r['family_id'])} backbone, {r['params_m']:g} M parameters" if r["params_m"] else \
            f"{rel.name('families', r['family_id'])} backbone"
        out.append(_entry("backbone", r["backbone_id"], r["name"], detail, "pages.backbone", "backbone_id",
                          [r["timm_arch"], r["hf_id"]]))
    for r in t["families"].sort("name").iter_rows(named=True):
        detail = f"family, {rel.name('token_mixers', r['token_mixer_id'])}, {'hierarchical' if r['hierarchical'] else 'isotropic'}"
        out.append(_entry("family", r["family_id"], r["name"], detail, "pages.family", "family_id", []))
    for r in t["checkpoints"].sort("checkpoint_id").iter_rows(named=True):
        detail = (f"checkpoint of {rel.name('backbones', r['backbone_id'])}: {rel.name('datasets', r['pretrain_dataset_id'])}, "
                  f"{rel.name('pretraining_methods', r['pretrain_method_id'])}")
        out.append(_entry("checkpoint", r["checkpoint_id"], r["checkpoint_id"], detail, "pages.backbone", "backbone_id",
                          [], anchor=checkpoint_anchor(r["checkpoint_id"]), page_key=r["backbone_id"]))
    for r in t["datasets"].sort("name").iter_rows(named=True):
        out.append(_entry("dataset", r["dataset_id"], r["name"], "dataset for " + (r["tasks"] or "").replace(",", ", ").replace("_", " "),
                          "pages.dataset", "dataset_id", []))
    for r in t["heads"].sort("name").iter_rows(named=True):
        out.append(_entry("head", r["head_id"], r["name"], "head for " + (r["tasks"] or "").replace(",", ", ").replace("_", " "),
                          "pages.head", "head_id", []))
    for r in t["sources"].sort("source_id").iter_rows(named=True):
        arxiv = f"arXiv {r['arxiv_id']}" if r["arxiv_id"] else ""
        detail = ", ".join(p for p in [(r["authors"] or "").split(";")[0] + (" et al." if ";" in (r["authors"] or "") else ""),
                                       str(r["year"] or ""), arxiv] if p)
        out.append(_entry("source", r["source_id"], r["title"], detail, "pages.source", "source_id", [r["arxiv_id"], r["authors"]]))
    return out


def checkpoint_anchor(checkpoint_id: str) -> str:
    """The fragment of a checkpoint's row on its backbone's page."""
    return "checkpoint-" + checkpoint_id


def _score(entry: Entry, query_key: str, words: list[str]) -> int:
    if query_key == entry.name_key or query_key == entry.key_norm:
        return 0
    if entry.name_key.startswith(query_key):
        return 1
    if all(any(nw.startswith(w) for nw in entry.name_words) for w in words):
        return 2
    return 3


def search(index: list[Entry], query: str, kinds: tuple[str, ...] = KINDS) -> list[Hit]:
    """Entries matching every word of the query, best first: exact, prefix, word prefix, anywhere;
    then backbones before families, checkpoints, datasets, heads and sources; then shorter names."""
    words = [normalise(w) for w in query.split()]
    words = [w for w in words if w]
    if not words:
        return []
    query_key = "".join(words)
    first, rest = words[0], words[1:]
    found = [e for e in index if first in e.haystack and e.kind in kinds and all(w in e.haystack for w in rest)]
    hits = [Hit(e, _score(e, query_key, words)) for e in found]
    hits.sort(key=lambda h: (h.score, KINDS.index(h.entry.kind), len(h.entry.name), h.entry.name.lower(), h.entry.key))
    return hits


def model_ids(rel: Release) -> tuple[set[str], set[str]]:
    """The backbone ids and checkpoint ids of a release (what compare and highlight accept)."""
    return (set(rel.tables["backbones"].get_column("backbone_id").to_list()),
            set(rel.tables["checkpoints"].get_column("checkpoint_id").to_list()))


def checkpoint_backbones(rel: Release) -> dict[str, str]:
    """checkpoint_id -> backbone_id."""
    return dict(rel.tables["checkpoints"].select("checkpoint_id", "backbone_id").iter_rows())


def count_by_kind(hits: list[Hit]) -> dict[str, int]:
    counts = dict.fromkeys(KINDS, 0)
    for h in hits:
        counts[h.entry.kind] += 1
    return counts

