"""Datasette plugin: link backbones, families and sources back to their viewer pages.

The viewer's address comes from the plugin configuration in the release metadata,
which reads it from the HEEDLESS_VIEWER_URL environment variable at start.
"""

from __future__ import annotations

from urllib.parse import quote

from datasette import hookimpl
from markupsafe import Markup, escape

# (table, column) -> viewer page prefix
VIEWER_PAGES = {
    ("backbones", "backbone_id"): "backbones",
    ("backbones", "name"): "backbones",
    ("families", "family_id"): "families",
    ("families", "name"): "families",
    ("sources", "source_id"): "sources",
    ("sources", "title"): "sources",
}
KEY_OF = {"backbones": "backbone_id", "families": "family_id", "sources": "source_id"}


@hookimpl
def render_cell(row, value, column, table, database, datasette):  # type: ignore[no-untyped-def]
    page = VIEWER_PAGES.get((table, column))
    if page is None or not isinstance(value, str):
        return None
    config = datasette.plugin_config("heedless-links", database=database) or {}
    base = str(config.get("viewer_url") or "").rstrip("/")
    if not base:
        return None
    key = row[KEY_OF[table]] if KEY_OF[table] in row.keys() else value
    href = f"{base}/{page}/{quote(str(key), safe='')}"
    # every interpolated value is escaped first
    return Markup(f'{escape(value)} <a class="viewer-link" href="{escape(href)}">(viewer)</a>')  # noqa: S704
