"""The SQL layer against the real MariaDB. Every test names its databases and users after its own
random prefix and drops them afterwards, so parallel runs (pytest -n) never collide."""

import secrets

import pymysql
import pytest

from analytics_provisioner import mysql


@pytest.fixture
def admin(mysql_server, runbook_users) -> mysql.Server:
    return mysql.Server(mysql_server.host, mysql_server.port, mysql_server.user, mysql_server.password, label="the test server")


@pytest.fixture
def prefix(admin):
    """``t`` + 8 hex digits (no ``_`` or ``%``: it is its own LIKE pattern); what it names is dropped after the test."""
    token = "t" + secrets.token_hex(4)
    yield token
    with mysql.session(admin) as cursor:
        cursor.execute("SELECT user, host FROM mysql.user WHERE user LIKE CONCAT(%s, '%%')", (token,))
        for user, host in cursor.fetchall():
            cursor.execute("DROP USER %s@%s", (user, host))
        cursor.execute("SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE CONCAT(%s, '%%')", (token,))
        for (name,) in cursor.fetchall():
            cursor.execute("DROP DATABASE " + mysql.quote(name).replace("%", "%%"), ())


@pytest.fixture
def login(admin):
    """``login(user, password, database=None)``: a connection as a created user, as the apps will connect."""
    opened = []

    def connect(user: str, password: str, database: str | None = None):
        connection = pymysql.connect(
            host=admin.host, port=admin.port, user=user, password=password, database=database, autocommit=True, connect_timeout=5
        )
        opened.append(connection)
        return connection

    yield connect
    for connection in opened:
        if connection.open:
            connection.close()


@pytest.fixture
def refused():
    """``refused(connection, statement, values=())``: the MySQL error code the server refuses it with."""

    def run(connection, statement: str, values: tuple = ()) -> int:
        with connection.cursor() as cursor, pytest.raises(pymysql.err.MySQLError) as raised:
            cursor.execute(statement, values)
        return raised.value.args[0]

    return run
