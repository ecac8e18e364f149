"""The ``aioa`` command line: one dispatcher, one module per subcommand in :mod:`aioa_analysis.commands`.

Exit codes (fit for cron; :data:`EXIT_CODES`, also printed by ``aioa --help``):

* 0: success;
* 2: bad input or parameters (one line on stderr: what is wrong and how to fix it);
* 3: an output could not be written: disk full, folder not writable, another run holding the lock
  (the previous outputs are untouched);
* 4: a report failed to render;
* 5: the pseudonymisation key or a restricted place: missing key once pseudonyms exist, wrong
  permissions, restricted data asked to land in a shared folder;
* 1: an unexpected internal error (one line; the traceback goes to the log file only);
* 130: interrupted.

The library only creates loggers; this module configures them (stderr, and ``--log-file``).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aioa_analysis import __version__
from aioa_analysis.core.errors import AioaError, OutputError

#: subcommand name -> module in aioa_analysis.commands exposing ``register(subparsers)``
COMMANDS: dict[str, str] = {
    "sample": "aioa_analysis.commands.sample",
    "clean": "aioa_analysis.commands.clean",
    "rates": "aioa_analysis.commands.rates",
    "report": "aioa_analysis.commands.report",
    "followup": "aioa_analysis.commands.followup",
    "vigilance": "aioa_analysis.commands.vigilance",
    "plaquette": "aioa_analysis.commands.plaquette",
    "forecast": "aioa_analysis.commands.forecast",
    "fiche": "aioa_analysis.commands.fiche",
}

log = logging.getLogger("aioa_analysis")

#: exit code -> its meaning, in French (``aioa --help`` prints it)
EXIT_CODES: dict[int, str] = {
    0: "succès",
    1: "erreur interne inattendue (à signaler ; détail dans --log-file)",
    2: "entrée ou paramètre invalide",
    3: "écriture impossible (disque plein, dossier non accessible, autre exécution en cours) ; "
    "les sorties précédentes sont intactes",
    4: "échec du rendu d'un rapport",
    5: "clé de pseudonymisation ou espace restreint (clé absente, permissions trop larges)",
    130: "interrompu",
}


class _FrenchHelpFormatter(argparse.HelpFormatter):
    """argparse's help, with a French ``usage :`` line."""

    def add_usage(self, usage, actions, groups, prefix=None):  # type: ignore[no-untyped-def]
        super().add_usage(usage, actions, groups, "usage : " if prefix is None else prefix)


class _OneLineParser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit 2 (argparse's own code for usage errors), and
    the help is in French (the users' language)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _FrenchHelpFormatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = "arguments"
        self._optionals.title = "options"
        self.add_argument("-h", "--help", action="help", help="affiche cette aide et quitte")

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"aioa: error: {message} (see `{self.prog} --help`)\n")
        raise SystemExit(2)


def _wanted_commands(argv: Sequence[str] | None) -> list[str]:
    """The subcommand named on the command line, alone (so ``aioa clean`` does not pay for scipy and
    nbconvert imports), or every command when none is named (``aioa --help``)."""
    tokens = list(argv or ())
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token == "--log-file":  # the only top-level option with a separate value
            i += 2
            continue
        if not token.startswith("-"):
            return [token] if token in COMMANDS else list(COMMANDS)
        i += 1
    return list(COMMANDS)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The ``aioa`` parser with the subcommand named in ``argv`` registered (all when ``argv`` is None)."""
    parser = _OneLineParser(
        prog="aioa",
        description="Ruptures de contrats d'apprentissage : nettoyage, statistiques, rapports.",
        epilog="codes de sortie : " + " ; ".join(f"{code} = {text}" for code, text in EXIT_CODES.items()),
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"aioa_analysis {__version__}",
        help="affiche la version et quitte",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="journal détaillé (débogage)")
    parser.add_argument("-q", "--quiet", action="store_true", help="avertissements et erreurs seulement")
    parser.add_argument("--log-file", help="ajoute aussi le journal (horodaté) à ce fichier")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_OneLineParser)
    sub.required = True
    wanted = _wanted_commands(argv) if argv is not None else list(COMMANDS)
    for name, module_name in COMMANDS.items():
        if name not in wanted:
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:  # a command not built yet
            if exc.name != module_name:
                raise
            continue
        module.register(sub)
    return parser


def configure_logging(*, verbose: bool = False, quiet: bool = False, log_file: str | None = None) -> None:
    """Send the package's logs to stderr (and to ``log_file``), one line per record."""
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    root = logging.getLogger("aioa_analysis")
    root.setLevel(logging.DEBUG)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(level)
    console.setFormatter(logging.Formatter("%(message)s"))
    root.addHandler(console)
    if log_file:
        try:
            Path(log_file).parent.mkdir(parents=True, exist_ok=True)
            fh = logging.FileHandler(log_file, encoding="utf-8")
        except OSError as exc:
            raise OutputError(f"journal {log_file} impossible à ouvrir : {exc.strerror or exc}") from exc
        fh.setLevel(logging.DEBUG)
        fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(fh)
    root.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``aioa`` console script; returns the process exit code (:data:`EXIT_CODES`)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    where = f"aioa {args.command}"
    try:
        configure_logging(verbose=args.verbose, quiet=args.quiet, log_file=args.log_file)
        return int(args.handler(args) or 0)
    except AioaError as exc:
        log.debug("%s", traceback.format_exc())
        sys.stderr.write(f"{where} : erreur : {exc.one_line()}\n")
        return exc.exit_code
    except BrokenPipeError:  # `aioa rates ... | head`: the reader went away, not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        sys.stderr.write(f"{where} : interrompu ; les sorties précédentes sont intactes\n")
        return 130
    except OSError as exc:  # disk full, folder not writable...: the I/O class, not a bug
        log.debug("%s", traceback.format_exc())
        name = f" ({exc.filename})" if exc.filename else ""
        sys.stderr.write(f"{where} : erreur d'écriture ou de lecture : {exc.strerror or exc}{name}\n")
        return OutputError.exit_code
    except Exception as exc:  # last resort: one line, traceback only in the log file
        log.debug("%s", traceback.format_exc())
        sys.stderr.write(
            f"{where} : erreur interne : {type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
            " (relancez avec --verbose --log-file FICHIER pour le détail, et signalez-la)\n"
        )
        return 1


#: The Arrow allocator of an ``aioa`` process. pyarrow's default (mimalloc) asks the kernel for huge
#: pages; where transparent huge pages are granted on request with synchronous defragmentation (the
#: common Linux default, ``madvise``), a fault on fresh memory can wait for the kernel to compact
#: memory. ``aioa clean`` of 1 M contracts on the 2-core benchmark machine: 18.3-19.1 s with
#: mimalloc, 14.0-14.4 s with the C library's allocator, same outputs (``docs/benchmarks.md``).
ARROW_POOL = "system"


def entry() -> None:
    """The ``aioa`` console script: :func:`main` in a process whose Arrow allocations use
    :data:`ARROW_POOL` (unless ``ARROW_DEFAULT_MEMORY_POOL`` already names one). Arrow reads the
    variable once, before its first allocation, so it is set here and not in :func:`main`, which
    tests call inside processes that have long imported pyarrow; child processes (the report's
    kernel, Chromium) inherit it.
    """
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", ARROW_POOL)
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    entry()
