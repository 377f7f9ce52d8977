"""The credentials files: strict JSON with exactly host, port, username, password, and they log in to MariaDB."""

import json

import pymysql
import pytest

EXACT_KEYS = ["host", "port", "username", "password"]


def strict_json(text: str) -> dict:
    def no_duplicates(pairs):
        keys = [key for key, _ in pairs]
        assert len(keys) == len(set(keys)), f"duplicate keys {keys}"
        return dict(pairs)

    def no_constant(name):
        raise AssertionError(f"non-standard JSON constant {name}")

    return json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constant)


@pytest.mark.parametrize("name, which", [("analytics-tasks/edxanalytics_creds", 0), ("analytics-tasks/edxapp_creds", 1)])
def test_creds_file_logs_in_as_its_user(render_repo, mariadb_logins, name, which):
    repo = render_repo(logins=mariadb_logins)
    creds = strict_json(repo.path(name).read_text())
    assert list(creds) == EXACT_KEYS
    assert all(isinstance(value, str) for value in creds.values())  # the port too, as in every known sample
    assert creds == mariadb_logins[which].as_creds()
    with (
        pymysql.connect(
            host=creds["host"], port=int(creds["port"]), user=creds["username"], password=creds["password"], connect_timeout=5
        ) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT CURRENT_USER()")
        assert cursor.fetchone()[0].split("@")[0] == creds["username"]


def test_a_wrong_password_does_not_log_in(render_repo, mariadb_logins):
    """The login above proves something: the server does check the password."""
    creds = strict_json(render_repo(logins=mariadb_logins).path("analytics-tasks/edxapp_creds").read_text())
    with pytest.raises(pymysql.err.OperationalError):
        pymysql.connect(
            host=creds["host"], port=int(creds["port"]), user=creds["username"], password=creds["password"] + "x", connect_timeout=5
        )
