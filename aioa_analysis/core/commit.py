"""Whole-run commits: a command stages its complete output set, then publishes it with one rename.

An output folder managed here (``data/processed/``, ``reports/``, a month of follow-up lists) looks
like this::

    reports/
        index.html              -> .aioa/current/index.html      (a symbolic link, made once)
        rapport-departement.html -> .aioa/current/rapport-departement.html
        cfa                     -> .aioa/current/cfa
        .aioa/
            lock                   held by the running command (fcntl lock)
            current             -> generations/20261207T061530-4242   (switched by one os.replace)
            generations/20261207T061530-4242/   the complete set of one run

A reader who opens ``reports/index.html`` always sees one complete run: the new set is written in a
new generation folder, and the one ``os.replace`` of ``current`` switches every name at once. A run
killed before that rename leaves the previous set in place; its half-written generation is removed
by the next run (which holds the lock, so no other run can be writing it). The previous generation is
kept until the switch, then removed.

Only one run writes a folder at a time: a second run waits for the lock up to ``wait`` seconds, then
stops with a one-line :class:`~aioa_analysis.core.errors.OutputError`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from aioa_analysis.core.errors import OutputError

META = ".aioa"


def _io_error(what: str, exc: OSError) -> OutputError:
    return OutputError(f"{what}: {exc.strerror or exc}")


@contextlib.contextmanager
def run_lock(root: Path, *, wait: float = 0.0, poll: float = 0.2) -> Iterator[None]:
    """Hold the lock of output folder ``root`` for the duration of the block.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with run_lock(d):
    ...     try:
    ...         with run_lock(d):
    ...             pass
    ...     except OutputError as exc:
    ...         print(exc.exit_code, "une autre exécution" in str(exc))
    3 True
    """
    meta = root / META
    try:
        meta.mkdir(parents=True, exist_ok=True)
        fd = os.open(meta / "lock", os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise _io_error(f"cannot create the lock in {meta}", exc) from exc
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OutputError(
                        f"une autre exécution écrit déjà dans {root} (verrou {META}/lock)",
                        hint="attendez la fin de l'autre exécution, ou relancez plus tard",
                    ) from None
                time.sleep(poll)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def current_generation(root: Path) -> Path | None:
    """The generation folder ``root`` publishes now, or None before the first commit."""
    link = root / META / "current"
    if not link.is_symlink():
        return None
    return (link.parent / os.readlink(link)).resolve()


def _new_generation(root: Path) -> Path:
    gens = root / META / "generations"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    path = gens / f"{stamp}-{os.getpid()}"
    try:
        path.mkdir(parents=True)
    except OSError as exc:
        raise _io_error(f"cannot create a staging folder in {gens}", exc) from exc
    return path


def remove_stale(root: Path) -> list[Path]:
    """Remove the generations no longer published (call it while holding the lock)."""
    gens = root / META / "generations"
    keep = current_generation(root)
    removed = []
    if gens.is_dir():
        for path in gens.iterdir():
            if path.resolve() != keep:
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
    for path in root.glob(".staging-*"):  # the staging folders of earlier versions
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _publish(root: Path, generation: Path) -> None:
    """Switch ``current`` to ``generation`` with one rename, then link the top-level names."""
    meta = root / META
    tmp = meta / f".current-{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(Path("generations") / generation.name, tmp)
    os.replace(tmp, meta / "current")  # the commit: one atomic rename
    for entry in generation.iterdir():
        name = root / entry.name
        target = Path(META) / "current" / entry.name
        if name.is_symlink() and Path(os.readlink(name)) == target:
            continue
        if name.is_dir() and not name.is_symlink():
            shutil.rmtree(name)  # a real folder of an earlier version: its content is in the new set
        link_tmp = root / f".{entry.name}.link-{os.getpid()}"
        with contextlib.suppress(FileNotFoundError):
            link_tmp.unlink()
        os.symlink(target, link_tmp)
        os.replace(link_tmp, name)


@contextlib.contextmanager
def output_set(root: str | os.PathLike[str], *, wait: float = 0.0, mode: int | None = None) -> Iterator[Path]:
    """Yield an empty staging folder; when the block succeeds, publish it as ``root``'s new set.

    Every name the staged set holds is reachable as ``root/<name>``; names of the previous set that
    the new one lacks disappear with the switch (their links then dangle and are removed). ``mode``
    (e.g. ``0o600``) is applied to every staged file and ``0o700`` to the folders before publication.

    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> with output_set(out) as stage:
    ...     _ = (stage / "a.csv").write_text("1")
    >>> with output_set(out) as stage:
    ...     _ = (stage / "a.csv").write_text("2")
    >>> (out / "a.csv").read_text(), len(list((out / ".aioa" / "generations").iterdir()))
    ('2', 1)
    """
    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _io_error(f"cannot create folder {root}", exc) from exc
    with run_lock(root, wait=wait):
        remove_stale(root)
        generation = _new_generation(root)
        try:
            yield generation
            if mode is not None:
                for path in generation.rglob("*"):
                    os.chmod(path, 0o700 if path.is_dir() else mode)
                os.chmod(generation, 0o700)
            _publish(root, generation)
        except BaseException as exc:
            if current_generation(root) != generation.resolve():
                shutil.rmtree(generation, ignore_errors=True)
            if isinstance(exc, OSError):
                raise _io_error(f"cannot publish the outputs in {root}", exc) from exc
            raise
        for name in root.iterdir():  # names the new set no longer has
            if name.is_symlink() and not name.exists() and str(os.readlink(name)).startswith(META):
                name.unlink()
        remove_stale(root)
