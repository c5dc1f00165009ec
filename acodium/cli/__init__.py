"""`gencode`: the command line, one group per stage (data, gen, exec, eval, sweep), and `run`, all of them at once.

Options are spelled with underscores as in the original alphaCodium tools
(`--output_dataset_name`); dashed spellings work too, for options and command
names alike. A `UserError` anywhere becomes one sentence on stderr and exit 2.

Commands import the library inside their bodies, and groups are loaded by name
when called: `gencode --help` and a refused argument answer in about 0.1 s,
where importing pandas, datasets and openai up front costs 1-8 s per call. At
module level a group imports click, the ground floor and data's vocabulary only;
acodium.execute (its backends, concurrent.futures: ~15 ms) comes with the option
or command that runs programs (cli/common.py).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import warnings

import click

from ..errors import UserError

# command name -> module under acodium.cli that defines it as `group` (a click group, or a command such
# as `sweep` and `run`), loaded lazily so that `gencode data ...` does not import the execution or LLM stacks.
GROUPS = {
    "data": "data",
    "exec": "exec_",
    "gen": "gen",
    "eval": "eval_",
    "sweep": "sweep",
    "run": "run",  # a command, not a group: generate, execute, judge, score, draw (cli/run.py)
}


class AliasedGroup(click.Group):
    """A group whose command names may be spelled with dashes or underscores."""

    def get_command(self, ctx, cmd_name):
        for name in (cmd_name, cmd_name.replace("-", "_"), cmd_name.replace("_", "-")):
            cmd = super().get_command(ctx, name)
            if cmd is not None:
                return cmd
        return None


class RootGroup(AliasedGroup):
    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(self._available()))

    def _available(self):
        found = []
        for name, module in GROUPS.items():
            if importlib.util.find_spec(f"acodium.cli.{module}") is not None:
                found.append(name)
        return found

    def get_command(self, ctx, cmd_name):
        cmd = super().get_command(ctx, cmd_name)
        if cmd is not None:
            return cmd
        module = GROUPS.get(cmd_name)
        if module is None or importlib.util.find_spec(f"acodium.cli.{module}") is None:
            return None
        return importlib.import_module(f"acodium.cli.{module}").group


def _version() -> str:
    from .. import __version__

    return __version__


@click.group(cls=RootGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(_version(), "--version", "-V", prog_name="gencode (acodium)",
                      message="%(prog)s %(version)s")
def cli():
    """acodium: generate, execute and judge solutions to CodeContests problems."""


def _show_warning(message, category, filename, lineno, file=None, line=None, _default=warnings.showwarning):
    """acodium's own warnings (a default time limit, no cgroups, no sandbox) as one line a user reads,
    `gencode: note: ...`, not Python's `file:line: Category:` form; other libraries' warnings as they are."""
    if category.__module__.split(".")[0] == "acodium":
        click.echo(f"gencode: note: {message}", err=True)
    else:
        _default(message, category, filename, lineno, file, line)


def main(argv=None) -> None:
    """Entry point of `gencode`: run the CLI, turning UserError into exit code 2."""
    warnings.showwarning = _show_warning
    try:
        cli.main(args=argv, prog_name="gencode", standalone_mode=False)
    except UserError as e:
        click.echo(f"gencode: {e}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("gencode: interrupted; finished results are kept.", err=True)
        sys.exit(130)
    except click.exceptions.NoArgsIsHelpError as e:
        e.show()
        sys.exit(2)
    except click.UsageError as e:  # an unknown option, a missing one, a choice not offered: one line too
        where = f" (see '{e.ctx.command_path} --help')" if e.ctx is not None else ""
        click.echo(f"gencode: {e.format_message().rstrip('.')}{where}.", err=True)
        sys.exit(2)
    except click.ClickException as e:
        e.show()
        sys.exit(2 if e.exit_code in (1, 2) else e.exit_code)
    except KeyboardInterrupt:
        click.echo("gencode: interrupted; finished results are kept.", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(1)
