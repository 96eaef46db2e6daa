"""Heedless Backbones viewer: a Flask + Bokeh site reading one release (never raw/)."""
