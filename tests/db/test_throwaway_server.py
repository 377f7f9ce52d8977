"""The throwaway MariaDB every test process runs on: real, on port 3306 of its own loopback address,
and gone (process and data) when closed."""

from pathlib import Path

import pymysql
import pytest

from analytics_provisioner.local import mariadb


def test_a_throwaway_server_answers_on_3306_of_its_own_address_and_leaves_nothing(mysql_server):
    with mariadb.throwaway_server() as server:
        assert server.port == mariadb.PORT == 3306 and server.host.startswith("127.0.0.")
        assert (server.host, server.port) != (mysql_server.host, mysql_server.port)  # not the session's server, wherever that listens
        with server.connect() as connection, connection.cursor() as cursor:
            cursor.execute("SELECT @@datadir")
            data_dir = Path(cursor.fetchone()[0])
    assert not data_dir.exists()
    with pytest.raises(pymysql.err.OperationalError):
        server.connect().close()


def test_without_mariadb_the_message_says_what_to_install_or_set(monkeypatch):
    monkeypatch.setattr(mariadb, "SEARCH_PATH", "/nonexistent")
    with (
        pytest.raises(mariadb.NoMariaDB, match="apt-get install -y mariadb-server.*ANALYTICS_PROVISIONER_TEST_MYSQL"),
        mariadb.throwaway_server(),
    ):
        pass
