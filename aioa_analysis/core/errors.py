"""Exception hierarchy: one root class, specific subclasses, one-line messages.

Every error a user can cause derives from :class:`AioaError`. Its ``str()`` is a single line that
says what is wrong and, through ``hint``, how to fix it. The CLI prints that line and exits with
``exit_code`` (2 for bad input or parameters, 3 for outputs, 4 for reports, 5 for the key and
restricted places); it never shows a traceback for these.
"""

from __future__ import annotations


class AioaError(Exception):
    """Root of every error the package raises on purpose.

    Parameters
    ----------
    message
        What is wrong, in one line (the file or parameter it concerns included).
    hint
        How to fix it, in one line (optional).
    """

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = " ".join(str(message).split())
        self.hint = " ".join(hint.split()) if hint else None
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """The message and the hint joined on one line."""
        return f"{self.message} — {self.hint}" if self.hint else self.message


class InputFileError(AioaError):
    """An input file cannot be used: missing, unreadable, empty, corrupt or protected."""


class UnknownFormatError(InputFileError):
    """An input file matches none of the known source profiles."""


class ParameterError(AioaError):
    """A parameter (CLI flag, notebook parameter, function argument) is invalid."""


class DataError(AioaError):
    """A table does not satisfy the schema it must satisfy (missing column, wrong type...)."""


class ConfigError(AioaError):
    """A configuration file or a shipped/user referential table is invalid."""


class OutputError(AioaError):
    """An output could not be written (the previous output is left untouched)."""

    exit_code = 3


class KeyFileError(AioaError):
    """The pseudonymisation key or a restricted place is missing or not protected (owner-only)."""

    exit_code = 5


class ReportError(AioaError):
    """Rendering a report failed (a notebook cell raised, export failed...)."""

    exit_code = 4
