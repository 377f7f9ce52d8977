"""Local mode's MySQL admin on a stock server, and what `local run --mysql` says when it cannot log in."""

import dataclasses
import os

import pymysql
import pytest

from testkit import MYSQL_URL_VARIABLE


@pytest.fixture
def stock_server(mysql_server):
    """A server these tests may change for every client (anonymous accounts) and compare whole: the test
    process's own throwaway server, or, when ANALYTICS_PROVISIONER_TEST_MYSQL names a server other test
    processes share (the anonymous accounts would refuse their users' logins meanwhile, and their users
    come and go), a throwaway server of the test's own."""
    if not os.environ.get(MYSQL_URL_VARIABLE):
        yield mysql_server
        return
    from analytics_provisioner.local.mariadb import throwaway_server

    with throwaway_server() as server:
        yield server


@pytest.fixture
def anonymous_accounts(stock_server):
    """A stock mariadb-install-db server: anonymous accounts for the hosts clients come from."""
    with stock_server.connect() as connection, connection.cursor() as cursor:
        cursor.execute("SELECT SUBSTRING_INDEX(USER(), '@', -1)")
        client_host = cursor.fetchone()[0]
        hosts = sorted({client_host, "localhost"})
        for host in hosts:
            cursor.execute("CREATE USER IF NOT EXISTS ''@%s", (host,))
    yield hosts
    with stock_server.connect() as connection, connection.cursor() as cursor:
        for host in hosts:
            cursor.execute("DROP USER IF EXISTS ''@%s", (host,))


def test_the_local_admin_logs_in_whatever_anonymous_accounts_exist(stock_server, anonymous_accounts):
    admin = stock_server.create_admin()
    try:
        as_admin = dataclasses.replace(stock_server, user=admin["username"], password=admin["password"])
        with as_admin.connect() as connection, connection.cursor() as cursor:
            cursor.execute("SELECT CURRENT_USER()")
            assert cursor.fetchone()[0].startswith(admin["username"] + "@")
    finally:
        stock_server.drop_user(admin["username"])
    with stock_server.connect() as connection, connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM mysql.user WHERE user = %s", (admin["username"],))
        assert cursor.fetchone() == (0,), "the admin is dropped for every host it was created for"


def test_a_wrong_password_is_access_denied_and_the_password_is_never_shown(mysql_server):
    wrong = dataclasses.replace(mysql_server, password="s3cret-Wrong-pw")
    with pytest.raises(RuntimeError) as refused:
        wrong.check()
    assert "access denied" in str(refused.value) and "s3cret-Wrong-pw" not in str(refused.value)
    assert "no MySQL/MariaDB answers" not in str(refused.value)


def test_no_server_is_cannot_connect_and_the_password_is_never_shown(mysql_server):
    nowhere = dataclasses.replace(mysql_server, host="127.0.0.1", port=1, password="s3cret-pw")
    with pytest.raises(RuntimeError) as refused:
        nowhere.check()
    assert "no MySQL/MariaDB answers at mysql://" in str(refused.value) and "s3cret-pw" not in str(refused.value)
    with pytest.raises(pymysql.err.OperationalError):
        nowhere.connect()


def test_the_demo_succeeds_on_a_stock_server_and_leaves_its_users_and_databases_as_they_were(stock_server, anonymous_accounts, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from testkit import EVENTS

    before = stock_server.contents()
    command = str(Path(sys.executable).parent / "analytics-provisioner")
    result = subprocess.run(
        [
            command,
            "local",
            "run",
            "--input",
            str(EVENTS / "input-minimal.json"),
            "--out",
            str(tmp_path / "out"),
            "--mysql",
            stock_server.url,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert stock_server.contents() == before
