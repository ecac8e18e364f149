"""Print an offline HTML page to PDF with the system's Chromium (headless, no network, no profile).

One function for every printable document (the employer leaflet, the report, the fiche parcours):
:func:`print_to_pdf`. The browser is the one the system installed (``apt-get install chromium``,
``make browser``), never a download: :func:`find_chromium` looks for ``$AIOA_CHROMIUM``, then
``chromium``, ``chromium-browser``, ``google-chrome`` on the ``PATH``. Without one,
:class:`ChromiumMissingError` (exit code 4, one French line saying how to install it or to run
without ``--pdf``).

The page's own print stylesheet (``@page``) decides the paper size and margins; Chromium's header
and footer (date, file name) are turned off. The PDF is written atomically: a failed run leaves the
previous PDF untouched.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from aioa_analysis.core.atomic import atomic_path
from aioa_analysis.core.errors import ReportError

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
"""Executables looked for on the ``PATH``, in this order (after ``$AIOA_CHROMIUM``)."""

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-pdf-header-footer",
    "--virtual-time-budget=15000",
    "--window-size=760,1080",
)
"""Flags of every run: headless, no network chatter, no first-run or sync, no header/footer, time
for the page's scripts (the report's charts) to draw before printing, and a window as wide as an A4
page's text (so that a chart drawn for the screen fits the paper; the report also redraws its charts
at ``beforeprint``)."""

DEFAULT_TIMEOUT = 120
"""Seconds allowed for one page."""


class ChromiumMissingError(ReportError):
    """No Chromium on this machine: a PDF cannot be printed (exit code 4)."""


def find_chromium() -> str | None:
    """Path of the Chromium executable to use, or None when there is none.

    ``$AIOA_CHROMIUM`` (a path or a name on the ``PATH``) wins; an empty value means "no Chromium"
    (useful to test the error path).
    """
    if "AIOA_CHROMIUM" in os.environ:
        value = os.environ["AIOA_CHROMIUM"].strip()
        return shutil.which(value) if value else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def require_chromium() -> str:
    """The Chromium executable, or :class:`ChromiumMissingError` (one French line, exit code 4)."""
    chromium = find_chromium()
    if chromium is None:
        raise ChromiumMissingError(
            "Chromium introuvable : impossible de produire le PDF",
            hint="installez-le (`make browser` ou `apt-get install chromium`) ou relancez sans --pdf",
        )
    return chromium


def chromium_command(chromium: str, html_path: Path, pdf_path: Path, profile_dir: Path) -> list[str]:
    """The command line printing ``html_path`` to ``pdf_path``.

    >>> cmd = chromium_command("chromium", Path("/t/a.html"), Path("/t/a.pdf"), Path("/t/p"))
    >>> cmd[0], cmd[-2], cmd[-1]
    ('chromium', '--print-to-pdf=/t/a.pdf', 'file:///t/a.html')
    """
    return [
        chromium,
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile_dir}",
        f"--print-to-pdf={pdf_path}",
        Path(html_path).absolute().as_uri(),
    ]


def print_to_pdf(
    html_path: str | os.PathLike[str], pdf_path: str | os.PathLike[str], *, timeout: int = DEFAULT_TIMEOUT
) -> Path:
    """Print the local HTML file ``html_path`` to ``pdf_path`` with headless Chromium; return ``pdf_path``.

    Raises :class:`ChromiumMissingError` when no Chromium is installed, :class:`ReportError` when
    the page is missing, Chromium fails, times out or writes no PDF.
    """
    html_path, pdf_path = Path(html_path), Path(pdf_path)
    if not html_path.is_file():
        raise ReportError(f"page HTML {html_path} introuvable : impossible d'en faire un PDF")
    chromium = require_chromium()
    with (
        tempfile.TemporaryDirectory(prefix="aioa-chromium-") as profile,
        atomic_path(pdf_path, mode=0o644) as tmp,
    ):
        cmd = chromium_command(chromium, html_path, tmp, Path(profile))
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise ReportError(f"Chromium n'a pas fini d'imprimer {html_path.name} en {timeout} s") from exc
        except OSError as exc:
            raise ReportError(f"Chromium ({chromium}) ne démarre pas : {exc.strerror or exc}") from exc
        if done.returncode != 0 or not _is_pdf(tmp):
            tail = " ".join((done.stderr or "").split())[-200:]
            raise ReportError(
                f"Chromium n'a pas produit le PDF de {html_path.name} (code {done.returncode})",
                hint=tail or None,
            )
    return pdf_path


def _is_pdf(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(5) == b"%PDF-"
    except OSError:
        return False


_PAGE = re.compile(rb"/Type\s*/Page(?![A-Za-z])")


def pdf_page_count(pdf_path: str | os.PathLike[str]) -> int:
    """Number of pages of a PDF written by Chromium (its ``/Type /Page`` objects).

    Chromium writes page objects uncompressed; this is no general PDF parser.

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "x.pdf"
    >>> _ = p.write_bytes(b"%PDF-1.4 1 0 obj <</Type /Pages /Count 2>> 2 0 obj <</Type /Page>> "
    ...                   b"3 0 obj <</Type/Page /Parent 1 0 R>>")
    >>> pdf_page_count(p)
    2
    """
    return len(_PAGE.findall(Path(pdf_path).read_bytes()))
