"""The ``ippo`` command line.

Each subcommand lives in its own module under ``ippo.commands`` and provides
``add_parser(subparsers)`` (which registers its options and sets ``func``) and a
``run(args) -> int``. Errors a user can make are raised as ``ValueError`` / ``OSError`` and
printed here as one line with a non-zero exit code, never as a traceback.
"""

import argparse
import importlib
import os
import sys

import ippo

#: Subcommand modules, in the order ``ippo --help`` lists them.
COMMANDS = [
    "ippo.commands.demo",
    "ippo.commands.train",
    "ippo.commands.evaluate",
    "ippo.commands.predict",
    "ippo.commands.gradcheck",
    "ippo.commands.export",
    "ippo.commands.news",
]


def build_parser():
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="ippo",
        description="ippo (一歩): a neural-network library built from scratch on NumPy.",
    )
    parser.add_argument("--version", action="version", version=f"ippo {ippo.__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(name).add_parser(subparsers)
    return parser


def main(argv=None):
    """Run the command line; returns the exit code."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # reported by the subcommand's parser: its usage line, not ippo's
        _command_parser(parser, getattr(args, "command", None)).error(
            f"unrecognized arguments: {' '.join(unknown)}")
    args.argv = argv  # what `ippo train` records in command.txt
    if not hasattr(args, "func"):
        parser.print_help()
        return 0
    try:
        return args.func(args) or 0
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        if getattr(args, "command", None) in ("train", "news"):  # work was cut short: say so
            print(f"ippo {args.command}: stopped because its output was closed (| head?); "
                  f"the run was not finished", file=sys.stderr)
        return 141
    except KeyboardInterrupt:
        print("ippo: interrupted", file=sys.stderr)
        return 130
    except (ValueError, OSError) as exc:
        print(f"ippo {args.command}: error: {error_message(exc)}", file=sys.stderr)
        return 1
    except MemoryError as exc:  # e.g. --hidden 1000000,1000000: NumPy names the size
        print(f"ippo {args.command}: error: out of memory: {exc or 'allocation failed'} "
              f"(try smaller layers or batches)", file=sys.stderr)
        return 1


def _command_parser(parser, command):
    """The sub-parser of ``command`` (``parser`` itself when there is none)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            return action.choices[command]
    return parser


def error_message(exc):
    """One line for a user's error: an operating-system error as 'FILE: reason' (without
    Python's '[Errno 2]' prefix), anything else as its message."""
    if isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        return f"{os.fsdecode(exc.filename)}: {exc.strerror}"
    return str(exc)


if __name__ == "__main__":
    raise SystemExit(main())
