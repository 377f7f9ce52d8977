"""MySQL users are owned (issue 16): the users a deployment creates are recorded in its secrets first,
a user that exists without that record is someone else's and is never altered, and deployments that
share one edxapp server each have a read-only user of their own.

Whole runs of the real state machine; the edxapp RDS leads to the test's MariaDB, each analytics RDS
to a server of its own (as on AWS).
"""

import copy
import json

import pymysql
import pytest

from analytics_provisioner import execution as executions
from analytics_provisioner.local.runner import execute
from analytics_provisioner.local.seed import seed
from analytics_provisioner.naming import RUNBOOK_EDXAPP_RO_USER, TAG_DEPLOYMENT, Names
from analytics_provisioner.phases.teardown.request import check

HAND_MADE_PASSWORD = "made-by-the-dba"  # nosec B105  # a test user's password on the throwaway server


def _secret(emulator, secret_id: str) -> dict:
    return json.loads(emulator.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"])


def _log_in(server, login: dict) -> None:
    pymysql.connect(host=server.host, port=server.port, user=login["username"], password=login["password"], connect_timeout=5).close()


def _grants(mysql_server, user: str) -> list[str]:
    with mysql_server.connect() as connection, connection.cursor() as cursor:
        cursor.execute("SHOW GRANTS FOR %s@'%%'", (user,))
        return sorted(row[0] for row in cursor.fetchall())


@pytest.fixture
def hand_made_edxapp_ro(mysql_server):
    """The runbook's edxapp_ro, made by the site's DBA with grants of its own."""
    with mysql_server.connect(autocommit=True) as connection, connection.cursor() as cursor:
        cursor.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (RUNBOOK_EDXAPP_RO_USER, HAND_MADE_PASSWORD))
        cursor.execute("GRANT SELECT, INSERT ON `reports`.* TO %s@'%%'", (RUNBOOK_EDXAPP_RO_USER,))
    yield _grants(mysql_server, RUNBOOK_EDXAPP_RO_USER)
    with mysql_server.connect(autocommit=True) as connection, connection.cursor() as cursor:
        cursor.execute("DROP USER IF EXISTS %s@'%%'", (RUNBOOK_EDXAPP_RO_USER,))


def test_a_hand_made_edxapp_ro_is_never_altered(emulator, minimal_input, mysql_server, hand_made_edxapp_ro):
    seed(emulator, minimal_input)
    provisioned = execute(emulator, minimal_input)
    assert provisioned.status == "SUCCEEDED", provisioned.cause
    read_only = _secret(emulator, Names("acme-demo").edxapp_ro_db_secret)
    assert read_only["username"] == Names("acme-demo").edxapp_ro_user == "acme-demo-edxapp-ro"
    _log_in(mysql_server, read_only)
    assert _grants(mysql_server, RUNBOOK_EDXAPP_RO_USER) == hand_made_edxapp_ro
    _log_in(mysql_server, {"username": RUNBOOK_EDXAPP_RO_USER, "password": HAND_MADE_PASSWORD})

    # Asking for the runbook's name: refused at DbSetup, the user as it was.
    asked = copy.deepcopy(minimal_input)
    asked["options"] = {**asked.get("options", {}), "edxapp_ro_user": RUNBOOK_EDXAPP_RO_USER}
    refused = execute(emulator, asked, name=executions.execution_name(asked, attempt=2))
    assert refused.status == "FAILED"
    assert refused.error == "DbSetup.OwnershipError", (refused.error, refused.cause)
    assert f"'{RUNBOOK_EDXAPP_RO_USER}'@'%' already exists" in refused.cause and "create-secret" in refused.cause
    assert _grants(mysql_server, RUNBOOK_EDXAPP_RO_USER) == hand_made_edxapp_ro
    _log_in(mysql_server, {"username": RUNBOOK_EDXAPP_RO_USER, "password": HAND_MADE_PASSWORD})
    _log_in(mysql_server, read_only)  # the deployment's own user still works


def test_two_deployments_on_one_edxapp_server_keep_their_own_logins(emulator, minimal_input, mysql_server, hand_made_edxapp_ro):
    """Each logs in with its own creds after the other's provisioning and after the other's teardown;
    a teardown drops only its own users, and after both nothing of theirs is left on the edxapp server."""
    other = {**copy.deepcopy(minimal_input), "deployment_id": "acme-demo-2"}
    documents = {document["deployment_id"]: document for document in (minimal_input, other)}
    logins = {}
    for deployment_id, document in documents.items():
        seed(emulator, document)
        result = execute(emulator, document)
        assert result.status == "SUCCEEDED", result.cause
        logins[deployment_id] = _setup(emulator, document)
    for deployment_id, (read_only, analytics, analytics_server) in logins.items():
        assert read_only["username"] == Names(deployment_id).edxapp_ro_user
        _log_in(mysql_server, read_only)
        _log_in(analytics_server, analytics)
    assert logins["acme-demo"][0]["username"] != logins["acme-demo-2"][0]["username"]

    before = _users(mysql_server)
    for torn_down, remaining in (("acme-demo", "acme-demo-2"), ("acme-demo-2", None)):
        removed = execute(emulator, {"deployment": documents[torn_down]}, name=f"teardown-{torn_down}", machine="TeardownStateMachine")
        assert removed.status == "SUCCEEDED", removed.cause
        assert logins[torn_down][0]["username"] not in _users(mysql_server)
        with pytest.raises(pymysql.err.OperationalError):
            _log_in(mysql_server, logins[torn_down][0])
        if remaining:
            _log_in(mysql_server, logins[remaining][0])
            _log_in(logins[remaining][2], logins[remaining][1])
    assert _users(mysql_server) == before - {logins[d][0]["username"] for d in documents}
    assert _grants(mysql_server, RUNBOOK_EDXAPP_RO_USER) == hand_made_edxapp_ro  # never ours, never dropped


def _users(mysql_server) -> set[str]:
    with mysql_server.connect() as connection, connection.cursor() as cursor:
        cursor.execute("SELECT user FROM mysql.user")
        return {user for (user,) in cursor.fetchall()}


def _setup(emulator, document: dict) -> tuple[dict, dict, object]:
    names = Names(document["deployment_id"])
    instance = emulator.client("rds").describe_db_instances(DBInstanceIdentifier=names.analytics_rds)["DBInstances"][0]
    return _secret(emulator, names.edxapp_ro_db_secret), _secret(emulator, names.analytics_db_secret), emulator.database_server(instance)


def test_teardown_drops_only_the_users_its_own_records_name(emulator, minimal_input, mysql_server):
    seed(emulator, minimal_input)
    assert execute(emulator, minimal_input).status == "SUCCEEDED"
    names = Names("acme-demo")
    request = json.dumps(check({"deployment": minimal_input}, "us-east-1"))
    sm = emulator.client("secretsmanager")

    def drop() -> dict:
        response = emulator.client("lambda").invoke(FunctionName="DbTeardownFunction", Payload=request)
        payload = json.loads(response["Payload"].read())
        assert "FunctionError" not in response, payload
        return payload

    sm.tag_resource(SecretId=names.edxapp_ro_db_secret, Tags=[{"Key": TAG_DEPLOYMENT, "Value": "someone-else"}])
    assert not [user for user in drop()["dropped"] if user.startswith(names.edxapp_ro_user)]  # a record not ours names no user of ours
    assert names.edxapp_ro_user in _users(mysql_server)

    sm.tag_resource(SecretId=names.edxapp_ro_db_secret, Tags=[{"Key": TAG_DEPLOYMENT, "Value": "acme-demo"}])
    dropped = drop()["dropped"]
    assert [user for user in dropped if user.startswith(names.edxapp_ro_user)] and any(user.startswith("analytics on ") for user in dropped)
    assert names.edxapp_ro_user not in _users(mysql_server)
    assert drop()["dropped"] == dropped  # again: DROP USER IF EXISTS, nothing else changes
