"""`civicstat add-user` and `civicstat remove-user`: built-in staff accounts in the secrets file."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from civicstat.accounts.secrets_file import DEFAULT_SECRETS_FILE, SecretsFileError
from civicstat.accounts.users import GRANTED_ROLES, AccountError, add_user, remove_user


def register(subparsers) -> None:
    add = subparsers.add_parser(
        "add-user",
        help="add a built-in staff account (or reset its password and role)",
        description="Store an account with a salted scrypt hash of its password in Streamlit's "
        "secrets file. The password is asked for twice, or read from the first line of "
        "standard input with --password-stdin.",
    )
    add.add_argument("name", help="account name (letters, digits, . _ @ -)")
    add.add_argument("--role", required=True, choices=GRANTED_ROLES,
                     help="staff: the internal pages; admin: also the admin page")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from standard input instead of prompting")
    _secrets_option(add)
    add.set_defaults(handler=cmd_add_user)

    remove = subparsers.add_parser("remove-user", help="remove a built-in staff account")
    remove.add_argument("name", help="account name")
    _secrets_option(remove)
    remove.set_defaults(handler=cmd_remove_user)


def _secrets_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--secrets", type=Path, default=DEFAULT_SECRETS_FILE,
        help=f"the secrets file the app reads (default: {DEFAULT_SECRETS_FILE})",
    )


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat the password: ") != first:
        raise AccountError("the two passwords differ")
    return first


def cmd_add_user(args: argparse.Namespace) -> int:
    try:
        replaced = add_user(args.secrets, args.name, args.role, _read_password(args.password_stdin))
    except (AccountError, SecretsFileError) as error:
        print(f"civicstat add-user: {error}", file=sys.stderr)
        return 2
    verb = "updated" if replaced else "added"
    print(f"Account {args.name!r} ({args.role}) {verb} in {args.secrets}")
    return 0


def cmd_remove_user(args: argparse.Namespace) -> int:
    try:
        removed = remove_user(args.secrets, args.name)
    except SecretsFileError as error:
        print(f"civicstat remove-user: {error}", file=sys.stderr)
        return 2
    if not removed:
        print(f"civicstat remove-user: no account {args.name!r} in {args.secrets}", file=sys.stderr)
        return 1
    print(f"Account {args.name!r} removed from {args.secrets}")
    return 0
