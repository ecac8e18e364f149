"""One module per ``aioa`` subcommand.

Each module exposes ``register(subparsers)``, which adds its parser and sets
``handler=run`` where ``run(args: argparse.Namespace) -> int``. Commands parse and validate
arguments, call the library, and print; they hold no logic of their own.
"""
