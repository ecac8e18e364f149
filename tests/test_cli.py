"""The dispatcher: one-line errors, exit codes, no traceback."""

from __future__ import annotations

import argparse
import logging

import pytest

from aioa_analysis import cli
from aioa_analysis.core.errors import AioaError, InputFileError, OutputError


def test_error_one_line_with_hint():
    err = InputFileError("fichier x.csv vide", hint="exportez-le à nouveau")
    assert str(err) == "fichier x.csv vide — exportez-le à nouveau"
    assert "\n" not in AioaError("a\nb").one_line()
    assert OutputError("x").exit_code == 3


def _fake_command(exc):
    def register(sub):
        p = sub.add_parser("boom")
        p.set_defaults(handler=lambda args: (_ for _ in ()).throw(exc))

    return register


@pytest.mark.parametrize(
    ("exc", "code", "needle"),
    [
        (InputFileError("le fichier a.csv est vide", hint="vérifiez l'export"), 2, "a.csv est vide"),
        (ZeroDivisionError("division by zero"), 1, "erreur interne : ZeroDivisionError"),
        (KeyboardInterrupt(), 130, "interrompu"),
        (
            OSError(28, "No space left on device", "/out/x.parquet"),
            3,
            "No space left on device (/out/x.parquet)",
        ),
        (PermissionError(13, "Permission denied", "/out"), 3, "Permission denied (/out)"),
    ],
)
def test_main_maps_errors_to_exit_codes(monkeypatch, capsys, exc, code, needle):
    real = cli.build_parser

    def build(argv=None):
        parser = real(argv)
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        _fake_command(exc)(sub)
        return parser

    monkeypatch.setattr(cli, "build_parser", build)
    assert cli.main(["boom"]) == code
    err = capsys.readouterr().err
    assert needle in err
    assert "Traceback" not in err
    assert err.count("\n") == 1


def test_usage_error_is_one_line(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["no-such-command"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "wanted"),
    [
        (["clean", "--out", "x"], ["clean"]),
        (["-q", "--log-file", "cron.log", "followup", "--month", "2025-09"], ["followup"]),
        (["--help"], list(cli.COMMANDS)),
        (["frobnicate"], list(cli.COMMANDS)),
    ],
)
def test_only_the_named_command_is_imported(argv, wanted):
    assert cli._wanted_commands(argv) == wanted


@pytest.mark.parametrize("command", [None, *cli.COMMANDS])
def test_help_is_in_french(command, capsys):
    argv = ["--help"] if command is None else [command, "--help"]
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage : aioa")
    assert "affiche cette aide et quitte" in out
    for english in ("show this help", "positional arguments", "usage: ", "(default", "default:"):
        assert english not in out, f"English left in `aioa {command or ''} --help`: {english!r}"


def test_log_file_in_a_missing_folder_is_created(tmp_path):
    log_file = tmp_path / "logs" / "deep" / "aioa.log"
    try:
        cli.configure_logging(log_file=str(log_file))
        logging.getLogger("aioa_analysis").info("bonjour")
    finally:
        cli.configure_logging()  # no file handler left behind for the other tests
    assert "bonjour" in log_file.read_text(encoding="utf-8")


def test_log_file_that_cannot_be_opened_is_one_line_exit_3(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    code = cli.main(["--log-file", str(blocker / "aioa.log"), "rates", "--data", "x.parquet", "--by", "cfa",
                     "--as-of", "2025-01-01"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 3 and "journal" in err and "Traceback" not in err and err.count("\n") == 1


def test_help_lists_the_exit_codes(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    for code in cli.EXIT_CODES:
        assert f"{code} = " in out
