"""Built-in accounts: password hashes, editing the secrets file, reading roles, the CLI."""

from __future__ import annotations

import io
import os
import stat
import tomllib

import pytest

from civicstat.accounts import passwords
from civicstat.accounts.secrets_file import SecretsFileError, set_table
from civicstat.accounts.users import AccountError, access_from_secrets, add_user, remove_user
from civicstat.cli.main import main

HAND_WRITTEN = """# our secrets: keep this comment
[auth]
redirect_uri = "http://localhost:8501/oauth2callback"  # trailing comment
cookie_secret = "s3cret"

[civicstat]
idle_timeout_minutes = 15

[civicstat.roles]
"Boss@City.Example" = "admin"
"""


def test_hash_is_salted_scrypt_and_verifies():
    first, second = passwords.hash_password("correct horse"), passwords.hash_password("correct horse")
    assert first.startswith("scrypt$32768$8$1$") and first != second  # a new salt each time
    assert passwords.verify_password("correct horse", first)
    assert not passwords.verify_password("correct horsf", first)
    assert "correct horse" not in first


@pytest.mark.parametrize("stored", ["", "plain", "scrypt$3$8$1$c2FsdA$a2V5", "bcrypt$1$2$3$4$5",
                                    "scrypt$32768$8$1$!!$!!", None])
def test_malformed_hashes_never_verify(stored):
    assert not passwords.is_valid_hash(stored)
    assert not passwords.verify_password("anything", stored)


def test_password_rules():
    assert passwords.password_problem("short") is not None
    assert passwords.password_problem(" padded password ") is not None
    assert passwords.password_problem("long enough password") is None


def test_add_user_keeps_the_rest_of_the_file(tmp_path):
    path = tmp_path / "secrets.toml"
    path.write_text(HAND_WRITTEN)
    assert add_user(path, "alice", "staff", "first password") is False
    assert add_user(path, "bob@city.example", "admin", "second password") is False
    assert add_user(path, "alice", "admin", "third password") is True  # replaced, not doubled
    text = path.read_text()
    assert text.startswith(HAND_WRITTEN)  # byte for byte
    assert text.count("[civicstat.users.alice]") == 1
    parsed = tomllib.loads(text)
    alice = parsed["civicstat"]["users"]["alice"]
    assert alice["role"] == "admin" and passwords.verify_password("third password",
                                                                   alice["password_hash"])
    assert "first password" not in text and "third password" not in text
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert remove_user(path, "alice") is True
    assert remove_user(path, "alice") is False
    assert "alice" not in tomllib.loads(path.read_text())["civicstat"]["users"]
    assert path.read_text().startswith(HAND_WRITTEN)


def test_comments_and_auth_survive_an_add_and_a_remove(tmp_path):
    """tomlkit files a comment just above a header under the table before it: removing that
    table must not take the comment (or the [auth] table after it) with it."""
    path = tmp_path / "secrets.toml"
    auth = ('# single sign-on: keep this comment\n[auth]\n'
            'redirect_uri = "http://localhost:8501/oauth2callback"  # trailing comment\n'
            'cookie_secret = "s3cret"\n')
    path.write_text('# our secrets: keep this comment\n[civicstat.users.old]\nrole = "staff"\n'
                    'password_hash = "x"\n\n' + auth)
    assert add_user(path, "alice", "staff", "first password") is False
    assert remove_user(path, "old") is True
    text = path.read_text()
    assert text.startswith("# our secrets: keep this comment\n") and text.endswith("\n\n" + auth)
    assert "[civicstat.users.alice]" in text and "old" not in text
    assert remove_user(path, "alice") is True
    assert path.read_text() == "# our secrets: keep this comment\n\n" + auth
    parsed = tomllib.loads(path.read_text())
    assert parsed["auth"] == {"redirect_uri": "http://localhost:8501/oauth2callback",
                              "cookie_secret": "s3cret"}
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_a_new_secrets_file_is_private(tmp_path):
    path = tmp_path / "deep" / ".streamlit" / "secrets.toml"
    add_user(path, "alice", "staff", "first password")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


@pytest.mark.parametrize("name, role, password", [
    ("bad name", "staff", "long enough password"),
    ('x"]\n[evil]', "staff", "long enough password"),
    ("alice", "root", "long enough password"),
    ("alice", "staff", "short"),
])
def test_add_user_refuses(tmp_path, name, role, password):
    with pytest.raises(AccountError):
        add_user(tmp_path / "secrets.toml", name, role, password)
    assert not (tmp_path / "secrets.toml").exists()


def test_an_unsafe_edit_is_refused_and_the_file_left_alone(tmp_path):
    path = tmp_path / "secrets.toml"
    original = '[civicstat]\nusers = { alice = { role = "staff" } }\n'  # inline: no table header
    path.write_text(original)
    with pytest.raises(SecretsFileError):
        set_table(path, ("civicstat", "users", "alice"), {"role": "admin"})
    assert path.read_text() == original


def test_roles_come_from_the_civicstat_section():
    hashed = passwords.hash_password("long enough password")
    access = access_from_secrets({
        "civicstat": {
            "idle_timeout_minutes": 5,
            "roles": {"Boss@City.Example": "admin", "clerk@city.example": "staff",
                      "root@city.example": "root", "not-an-email": "staff"},
            "users": {"alice": {"role": "staff", "password_hash": hashed},
                      "mallory": {"role": "admin", "password_hash": "plaintext!"},
                      "eve": {"role": "superuser", "password_hash": hashed}},
        }
    })
    assert access.role_for_email("boss@city.example") == "admin"
    assert access.role_for_email(" CLERK@city.example ") == "staff"
    assert access.role_for_email("root@city.example") == "anonymous"
    assert access.role_for_email(None) == "anonymous"
    assert access.role_for_account("alice") == "staff"
    assert access.role_for_account("mallory") == "anonymous"  # a bad hash is no account
    assert access.role_for_account("eve") == "anonymous"
    assert access.idle_timeout_minutes == 5
    assert len(access.problems) == 4


def test_no_secrets_means_nobody():
    access = access_from_secrets(None)
    assert access.accounts == {} and access.email_roles == {}
    assert access.idle_timeout_minutes == 30


def test_cli_add_and_remove_user(tmp_path, monkeypatch, capsys):
    path = tmp_path / "secrets.toml"
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
    assert main(["add-user", "sam", "--role", "staff", "--password-stdin", "--secrets", str(path)]) == 0
    stored = tomllib.loads(path.read_text())["civicstat"]["users"]["sam"]
    assert stored["role"] == "staff"
    assert passwords.verify_password("a long password", stored["password_hash"])
    assert "added" in capsys.readouterr().out

    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["add-user", "sam", "--role", "admin", "--password-stdin", "--secrets", str(path)]) == 2
    assert "at least" in capsys.readouterr().err
    assert tomllib.loads(path.read_text())["civicstat"]["users"]["sam"]["role"] == "staff"

    assert main(["remove-user", "sam", "--secrets", str(path)]) == 0
    assert main(["remove-user", "sam", "--secrets", str(path)]) == 1


def test_cli_prompts_twice(tmp_path, monkeypatch):
    answers = iter(["one long password", "another password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    path = tmp_path / "secrets.toml"
    assert main(["add-user", "sam", "--role", "staff", "--secrets", str(path)]) == 2
    assert not path.exists()
