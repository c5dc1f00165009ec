"""Run `gencode` in-process for the CLI tests: (exit code, stdout, stderr) of one command."""

from __future__ import annotations

from acodium.cli import main


def gencode_in_process(capsys, *args) -> tuple[int, str, str]:
    """Run `gencode ARGS` in this process; output captured before the call is dropped."""
    capsys.readouterr()
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as e:
        code = e.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err
