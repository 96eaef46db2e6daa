"""Names and licence shared by every release file."""

DB_STEM = "heedless-backbones"
DB_NAME = f"{DB_STEM}.db"
PACKAGE_NAME = "heedless-backbones"
TITLE = "Heedless Backbones"
DESCRIPTION = (
    "Computer-vision backbones compared across classification, detection, instance and "
    "semantic segmentation, with the family, head, pretraining data and recipe, fine-tuning "
    "chain and throughput context behind every number, and the source and place it was read from."
)
LICENSE = {
    "name": "CC-BY-4.0",
    "title": "Creative Commons Attribution 4.0",
    "path": "https://creativecommons.org/licenses/by/4.0/",
}
