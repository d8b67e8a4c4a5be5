"""The `civicstat` command: build the demo city, publish snapshots, load exports, manage users."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from civicstat.cli.progress import progress_bar
from civicstat.core.city import CityConfigError, load_city
from civicstat.core.errors import one_line
from civicstat.ingest.sources.base import InputError


def cmd_demo(args: argparse.Namespace) -> int:
    from civicstat.demo.generator import build_demo
    from civicstat.publish.build import publish

    started = time.monotonic()
    build_demo(Path(args.dir), rows=args.rows, seed=args.seed,
               progress=None if args.quiet else progress_bar("Generating"))
    info = publish(load_city(args.dir))
    from civicstat.demo.commitments import record_demo_commitments

    promised = record_demo_commitments(load_city(args.dir))
    print(
        f"Demo city built in {args.dir}: {info['count_requests']:,} requests, "
        f"as of {info['as_of']:%Y-%m-%d %H:%M}, snapshot {info['version']}, "
        f"{len(promised)} commitments ({time.monotonic() - started:.0f} s)"
    )
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    from civicstat.publish.build import publish

    started = time.monotonic()
    info = publish(load_city(args.dir), full=args.full)
    if not info["count_requests"]:
        print(f"Published an empty snapshot {info['version']}: no requests loaded yet "
              "(civicstat ingest loads an export; civicstat quarantine shows what was rejected)")
        return 0
    print(
        f"Published {info['count_requests']:,} requests, as of {info['as_of']}, "
        f"snapshot {info['version']} ({time.monotonic() - started:.1f} s; "
        f"{info['publish_mode']}: {info['publish_reason']})"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="civicstat", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="build the fictional demo city and publish it")
    demo.add_argument("dir", help="city folder to create (replaced if it holds a demo)")
    demo.add_argument("--rows", type=int, default=1_000_000, help="requests (default 1,000,000)")
    demo.add_argument("--seed", type=int, default=311, help="random seed (default 311)")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.set_defaults(handler=cmd_demo)

    publish = commands.add_parser("publish", help="build internal/public snapshots, swap in")
    publish.add_argument("dir", help="city folder")
    publish.add_argument("--full", action="store_true",
                         help="build both snapshots from the whole store, not incrementally "
                              "(also restores the tables' sort order)")
    publish.set_defaults(handler=cmd_publish)

    _register_extensions(commands)
    return parser


def _register_extensions(commands) -> None:
    """Subcommands that live in their own modules (loading exports, staff accounts, serving)."""
    from civicstat.cli import ingest as cli_ingest
    from civicstat.cli import reports as cli_reports
    from civicstat.cli import serve as cli_serve
    from civicstat.cli import users as cli_users

    for module in (cli_ingest, cli_users, cli_serve, cli_reports):
        module.register(commands)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (InputError, CityConfigError, FileNotFoundError) as error:
        print(f"civicstat: error: {one_line(error)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
