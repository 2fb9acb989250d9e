"""Errors that end a run with a clear one-line message (exit status 2), never a traceback."""

from __future__ import annotations


class ScrubError(Exception):
    """A problem with the user's input or options that stops the whole run."""

    def __init__(self, message: str, source: str | None = None) -> None:
        super().__init__(message)
        self.source = source
        self.message = message

    def __str__(self) -> str:
        return f"{self.source}: {self.message}" if self.source else self.message


class InputError(ScrubError):
    """An input file that cannot be read as claims at all (missing, empty, binary, wrong shape)."""


class PolicyError(ScrubError):
    """A policy file that cannot be used (unreadable, unknown keys, bad values)."""


class UsageError(ScrubError):
    """Options that contradict each other or name things that do not exist (unknown check ids)."""
