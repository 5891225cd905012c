"""Errors raised by Stemmatic.  The CLI turns each into a one-line message and exit status."""

from __future__ import annotations


class StemmaticError(Exception):
    """Base class of every error Stemmatic raises on purpose."""

    exit_code = 2

    def __init__(self, message: str, path: str | None = None) -> None:
        self.path = path
        self.reason = message
        super().__init__(f"{path}: {message}" if path else message)


class InputError(StemmaticError):
    """A file or record could not be read as a document (missing, binary, empty, corrupt)."""


class SettingsError(StemmaticError):
    """A setting or option has a value that cannot work."""


class IndexStoreError(StemmaticError):
    """An on-disk index is missing, locked, corrupt or of another format version."""
