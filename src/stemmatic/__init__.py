"""Stemmatic: trace how a text uses other texts."""

from stemmatic.errors import InputError, SettingsError, StemmaticError
from stemmatic.settings import Settings
from stemmatic.types import (
    Attribution,
    Citation,
    Difference,
    DiffType,
    Document,
    Fidelity,
    Finding,
    Kind,
    Passage,
    Quotation,
    Report,
    Skipped,
)

__version__ = "0.1.0"

__all__ = [
    "Attribution",
    "Citation",
    "DiffType",
    "Difference",
    "Document",
    "Fidelity",
    "Finding",
    "InputError",
    "Kind",
    "Passage",
    "Quotation",
    "Report",
    "Settings",
    "SettingsError",
    "Skipped",
    "StemmaticError",
    "__version__",
]
