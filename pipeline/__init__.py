"""Heedless Backbones pipeline: raw/ YAML -> validated polars frames -> versioned releases."""
