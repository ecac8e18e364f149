"""Atomic outputs (write into a temporary sibling, then rename: a failed run leaves old files intact) and file digests.

Use :func:`atomic_path` for one file and :class:`AtomicDir` for a set of files that must be replaced
together (``contracts.parquet`` + ``rejected.csv`` + ``quality.json``): every file is written into a
staging directory next to the destination, and only when all succeeded are they moved into place.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from aioa_analysis.core.errors import OutputError


@contextlib.contextmanager
def atomic_path(dest: str | os.PathLike[str], *, mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``dest``; on success rename it onto ``dest``.

    ``mode`` (e.g. ``0o600``) is applied to the file before it is renamed, so the file is never
    visible with looser permissions.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "x.txt") as tmp:
    ...     _ = tmp.write_text("bonjour")
    >>> (d / "x.txt").read_text()
    'bonjour'
    """
    dest = Path(dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create folder {dest.parent}: {exc.strerror}") from exc
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


class AtomicDir:
    """Stage several output files and move them into ``dest_dir`` together.

    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> with AtomicDir(out) as stage:
    ...     _ = (stage / "a.csv").write_text("x")
    >>> sorted(p.name for p in out.iterdir())
    ['a.csv']
    """

    def __init__(self, dest_dir: str | os.PathLike[str], *, mode: int | None = None) -> None:
        self.dest_dir = Path(dest_dir)
        self.mode = mode
        self.stage: Path | None = None

    def __enter__(self) -> Path:
        try:
            self.dest_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create folder {self.dest_dir}: {exc.strerror}") from exc
        self.stage = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.dest_dir))
        return self.stage

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        assert self.stage is not None
        try:
            if exc_type is None:
                for path in sorted(self.stage.rglob("*")):
                    if path.is_file():
                        target = self.dest_dir / path.relative_to(self.stage)
                        target.parent.mkdir(parents=True, exist_ok=True)
                        if self.mode is not None:
                            os.chmod(path, self.mode)
                        os.replace(path, target)
        finally:
            shutil.rmtree(self.stage, ignore_errors=True)


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
