"""The `caldav-bridge` command line."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

from bridge_server import commands
from caldav_bridge.availability import SlotQueryError
from caldav_bridge.errors import ConfigError, LoginError, StoreError

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        default=argparse.SUPPRESS,
        help="practice.toml to use (default: $CALDAV_BRIDGE_CONFIG or config/practice.toml)",
    )
    parser = argparse.ArgumentParser(
        prog="caldav-bridge", description="Practice calendar for therapists.", parents=[common]
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = sub.add_parser("init", parents=[common], help="create the database and the admin login")
    init.add_argument(
        "--demo", action="store_true", help="also set demo passwords for the therapists"
    )
    init.add_argument(
        "--admin-password-file", type=Path, help="read the admin password from a file"
    )

    sub.add_parser("check-config", parents=[common], help="validate the configuration")

    serve = sub.add_parser("serve", parents=[common], help="run the server (CalDAV, web, watcher)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--threads", type=int, default=8, help="request threads (default 8)")
    serve.add_argument("--no-watcher", action="store_true", help="run the watcher elsewhere")

    watch = sub.add_parser("watch", parents=[common], help="run the watcher: notices, reminders")
    watch.add_argument(
        "--interval", type=float, default=1.0, help="seconds between passes (default 1)"
    )

    notify = sub.add_parser("notify", parents=[common], help="notifications")
    notify_sub = notify.add_subparsers(dest="notify_command", required=True, metavar="ACTION")
    run_once = notify_sub.add_parser(
        "run-once", parents=[common], help="one pass: changes, reminders, delivery"
    )
    run_once.add_argument("--now", type=_moment, help="ISO 8601 instant to run as of")

    passwd = sub.add_parser("passwd", parents=[common], help="set a login's password")
    passwd.add_argument("login")
    passwd.add_argument("--password-file", type=Path, help="read the password from a file")

    slots = sub.add_parser(
        "slots", parents=[common], help="print the slots a service offers (JSON)"
    )
    slots.add_argument("--service", required=True, help="service id, e.g. seance-75")
    slots.add_argument("--therapist", default="any", help="a therapist's login, or any (default)")
    slots.add_argument("--from", dest="first", required=True, type=_day, help="YYYY-MM-DD")
    slots.add_argument("--days", type=int, default=7, help="number of days (default 7)")
    slots.add_argument("--now", type=_moment, help="ISO 8601 instant to compute as of")

    db = sub.add_parser("db", parents=[common], help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_sub.add_parser("upgrade", parents=[common], help="apply the schema migrations")
    db_sub.add_parser("current", parents=[common], help="print the schema revision")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        return _dispatch(args)
    except ConfigError as exc:
        print(f"caldav-bridge: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except StoreError as exc:
        print(f"caldav-bridge: database error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except SlotQueryError as exc:
        print(f"caldav-bridge: --{exc.parameter}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except LoginError as exc:
        print(f"caldav-bridge: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_FAILURE


def _dispatch(args: argparse.Namespace) -> int:
    path = commands.config_path(getattr(args, "config", None), os.environ)
    if args.command == "check-config":
        print(commands.check_config(path))
        return EXIT_OK
    if args.command == "init":
        admin_password = _read_secret_file(args.admin_password_file)
        print(commands.init(path, os.environ, demo=args.demo, admin_password=admin_password))
        return EXIT_OK
    if args.command == "passwd":
        password = _read_secret_file(args.password_file) or _prompt_password(args.login)
        commands.passwd(path, os.environ, args.login, password)
        print(f"Password set for {args.login}.")
        return EXIT_OK
    if args.command == "slots":
        print(
            commands.slots(
                path, os.environ, args.service, args.therapist, args.first, args.days, args.now
            )
        )
        return EXIT_OK
    if args.command == "db":
        print(commands.db(path, os.environ, args.db_command))
        return EXIT_OK
    if args.command == "watch":
        commands.watch(path, os.environ, args.interval)
        return EXIT_OK
    if args.command == "notify":
        print(commands.notify_run_once(path, os.environ, args.now))
        return EXIT_OK
    if args.command == "serve":
        commands.serve(path, os.environ, args.host, args.port, args.threads, not args.no_watcher)
        return EXIT_OK
    raise AssertionError(args.command)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; expected YYYY-MM-DD") from None


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an instant; expected ISO 8601 with an offset, "
            "e.g. 2026-11-30T08:00:00+01:00"
        )
    return moment


def _read_secret_file(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8").strip("\r\n")
    except OSError as exc:
        raise LoginError(f"cannot read {path}: {exc.strerror}") from exc


def _prompt_password(login: str) -> str:
    first = getpass.getpass(f"New password for {login}: ")
    if first != getpass.getpass("Repeat it: "):
        raise LoginError("the two passwords differ; nothing changed")
    return first


if __name__ == "__main__":
    sys.exit(main())
