"""Shared fixtures: a moto account for unit tests, the full emulator for workflow tests, MariaDB."""

import copy
import os
from pathlib import Path

import pytest

LIBRARY = str(Path(__file__).resolve().parents[1] / "layers" / "common" / "python")
# Subprocesses (the installed `analytics-provisioner` command) import this checkout's library too.
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [LIBRARY, os.environ.get("PYTHONPATH")]))

from testkit import MYSQL_URL_VARIABLE, REGION, load_event, store_edxapp_admin_secret


@pytest.fixture
def minimal_input() -> dict:
    return copy.deepcopy(load_event("input-minimal.json"))


@pytest.fixture
def full_input() -> dict:
    return copy.deepcopy(load_event("input-full.json"))


@pytest.fixture(scope="session")
def mysql_server():
    """The real MariaDB: a throwaway server of this test process's own (pytest -n workers and test runs
    side by side never share the runbook's fixed MySQL users), or the server ANALYTICS_PROVISIONER_TEST_MYSQL
    names. When neither can be had the run fails: it never skips."""
    from analytics_provisioner.local.mariadb import throwaway_server
    from analytics_provisioner.local.mysql import MysqlServer

    url = os.environ.get(MYSQL_URL_VARIABLE)
    if url:
        server = MysqlServer.from_url(url)
        server.check()
        yield server
        return
    with throwaway_server() as server:
        yield server


@pytest.fixture(scope="session")
def database_servers():
    """Throwaway MariaDB servers for the RDS instances workflows create, one per instance (as on AWS),
    lent to an emulator and wiped when it closes; started on first use, kept for the session."""
    from analytics_provisioner.local.mariadb import ServerPool

    pool = ServerPool()
    yield pool
    pool.close()


@pytest.fixture
def runbook_users(mysql_server):
    """The MySQL server's turn, held for the whole test by every test that changes the server: workflow
    runs that reach DbSetup create users with fixed names on the edxapp server (a deployment's read-only
    user, the hand-made users of ownership tests), an emulator that connected drops every account and
    database that appeared while it ran when it closes, and tests of the SQL layer create their own. So
    tests sharing a server (ANALYTICS_PROVISIONER_TEST_MYSQL) take turns, across pytest-xdist workers
    too; on a test process's own throwaway server nobody waits."""
    connection = mysql_server.connect()
    with connection.cursor() as cursor:
        cursor.execute("SELECT GET_LOCK('analytics-provisioner: runbook users', 900)")
        assert cursor.fetchone() == (1,), "another test held the runbook users for 15 minutes"
    yield
    connection.close()  # releases the lock


@pytest.fixture
def emulator(request, mysql_server, database_servers):
    """moto + the Step Functions interpreter + our handlers in-process, template deployed; the
    edxapp RDS leads to ``mysql_server``, each analytics RDS to a server of its own.

    Executions that reach DbSetup reset the runbook users' passwords, so the test takes turns
    (``runbook_users``) unless it is marked ``without_database`` (its executions never get there).
    """
    from analytics_provisioner.local.emulator import Emulator

    if not request.node.get_closest_marker("without_database"):
        request.getfixturevalue("runbook_users")
    with Emulator(region=REGION, mysql=mysql_server, database_servers=database_servers.server) as emu:
        yield emu


@pytest.fixture
def aws():
    """A bare moto account (no template, no MySQL) with AWS's catalogue, for unit tests of one phase."""
    from analytics_provisioner.local.emulator import Emulator

    with Emulator(region=REGION, deploy=False) as emu:
        yield emu


@pytest.fixture
def seeded(aws, minimal_input):
    """The moto account with what the runbook assumes exists for the minimal input."""
    from analytics_provisioner.local.seed import seed

    seed(aws, minimal_input)
    return aws


@pytest.fixture
def ready(seeded, minimal_input):
    """The seeded account plus the edxapp admin secret, which seed() writes only when a MySQL server stands behind it."""
    store_edxapp_admin_secret(seeded, minimal_input)
    return seeded


@pytest.fixture(scope="module")
def seeded_full():
    """One emulated account seeded for events/input-full.json, shared by a module's examples
    (hypothesis runs hundreds; Validate only reads, and the tests check that it does)."""
    from analytics_provisioner.local.emulator import Emulator
    from analytics_provisioner.local.seed import seed

    with Emulator(region=REGION, deploy=False) as emu:
        seed(emu, load_event("input-full.json"))
        yield emu
