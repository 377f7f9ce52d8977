"""Fixtures of the consumer tests: rendered secure repos, and real MariaDB users for the creds files."""

import secrets

import pytest
from secure_repo import HOSTILE, SecureRepo, make_context, write_repo

from analytics_provisioner.render.context import DbLogin


@pytest.fixture
def mariadb_logins(mysql_server, runbook_users):
    """Two throw-away MariaDB users with hostile passwords: (analytics, edxapp_ro)."""
    users = [f"ap_render_{secrets.token_hex(4)}" for _ in range(2)]
    logins = []
    with mysql_server.connect(autocommit=True) as connection, connection.cursor() as cursor:
        for user in users:
            password = secrets.token_urlsafe(12) + HOSTILE
            cursor.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (user, password))
            logins.append(DbLogin(mysql_server.host, str(mysql_server.port), user, password))
    yield tuple(logins)
    with mysql_server.connect(autocommit=True) as connection, connection.cursor() as cursor:
        for user in users:
            cursor.execute("DROP USER IF EXISTS %s@'%%'", (user,))


@pytest.fixture
def offline_logins():
    """Logins for tests that never connect."""
    return (
        DbLogin("acme-prod-analytics.abc.eu-west-1.rds.amazonaws.com", "3306", "analytics", "an-" + HOSTILE),
        DbLogin("acme-edxapp-db.abc.eu-west-1.rds.amazonaws.com", "3306", "edxapp_ro", "ro-" + HOSTILE),
    )


@pytest.fixture
def render_repo(tmp_path, offline_logins):
    def render(release: str = "open-release/nutmeg.master", logins=None) -> SecureRepo:
        analytics, edxapp_ro = logins or offline_logins
        return write_repo(make_context(release, analytics, edxapp_ro), tmp_path / release.replace("/", "_"))

    return render
