"""DbSetup in local mode against the real MariaDB, with the runbook's names: dashboard, analytics-api,
reports, analytics, the seeded edxapp user, and the read-only user (edxapp_ro in the runbook, per
deployment here unless the input asks for the runbook's name).

First the real state machine, where "Create databases and users" follows the analytics RDS poll loop;
then the DbSetup function alone, invoked through the emulator's Lambda service (the real handler,
in-process) with the state the Database branch hands it: Validate's output plus the Database output.
The runbook's users live on the shared server and other runs may have left them with other passwords;
the tests hold a server-wide lock so that parallel workers (pytest -n) take turns with them.
"""

import json
import secrets

import pymysql
import pytest

from analytics_provisioner import execution as executions
from analytics_provisioner.handler import invoke as run_phase
from analytics_provisioner.local.runner import execute
from analytics_provisioner.local.seed import EDXAPP_DB_USER, seed
from analytics_provisioner.naming import TAG_DEPLOYMENT, Names
from analytics_provisioner.phases import validate
from analytics_provisioner.phases.dbsetup import ANALYTICS_DATABASES
from testkit import assert_no_leak, database_server

REGION = "us-east-1"
DENIED = {1044, 1045, 1142, 1227}
RO = Names("acme-demo").edxapp_ro_user  # the minimal input's read-only user
SETUP_KEYS = {"analytics_db_secret_arn", "edxapp_ro_secret_arn", "migration_user", "databases", "analytics_host", "edxapp_host"}


@pytest.fixture
def branch_state(emulator, minimal_input) -> dict:
    """What "Create databases and users" receives: Validate's output and the Database ensure output."""
    seed(emulator, minimal_input)
    state = run_phase(validate.run, minimal_input)
    identifier = Names(minimal_input["deployment_id"]).analytics_rds
    rds = emulator.client("rds")
    rds.create_db_instance(
        DBInstanceIdentifier=identifier,
        Engine="mysql",
        DBInstanceClass="db.t3.small",
        AllocatedStorage=20,
        MasterUsername="admin",
        ManageMasterUserPassword=True,
    )
    instance = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
    state["database"] = {
        "db_instance_id": identifier,
        "endpoint": instance["Endpoint"]["Address"],
        "port": instance["Endpoint"]["Port"],
        "master_secret_arn": instance["MasterUserSecret"]["SecretArn"],
        "ready": True,
        "poll": {"checks": 1, "waited_seconds": 420, "next_wait_seconds": 60},
    }
    return state


def invoke(emulator, state: dict) -> dict:
    response = emulator.client("lambda").invoke(FunctionName="DbSetupFunction", Payload=json.dumps(state))
    payload = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, payload
    return payload


def secret(emulator, secret_id: str) -> dict:
    return json.loads(emulator.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"])


def secret_versions(emulator, setup: dict) -> dict:
    """Version ids and stages of our two secrets: a new value would add a version."""
    sm = emulator.client("secretsmanager")
    return {
        arn: sorted((v["VersionId"], tuple(v["VersionStages"])) for v in sm.list_secret_version_ids(SecretId=arn)["Versions"])
        for arn in (setup["analytics_db_secret_arn"], setup["edxapp_ro_secret_arn"])
    }


def login(mysql_server, user: str, password: str, database: str | None = None):
    return pymysql.connect(
        host=mysql_server.host, port=mysql_server.port, user=user, password=password, database=database, autocommit=True, connect_timeout=5
    )


def refused(connection, statement: str) -> int:
    with connection.cursor() as cursor, pytest.raises(pymysql.err.MySQLError) as raised:
        cursor.execute(statement)
    return raised.value.args[0]


def can_create_a_table(connection, database: str) -> None:
    table = f"`{database}`.`probe_{secrets.token_hex(4)}`"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {table} (id INT PRIMARY KEY)")
        cursor.execute(f"INSERT INTO {table} VALUES (1)")
        cursor.execute(f"DROP TABLE {table}")


def grants(mysql_server, users: list[str]) -> dict:
    with mysql_server.connect(autocommit=True) as connection, connection.cursor() as cursor:
        found = {}
        for user in users:
            cursor.execute("SHOW GRANTS FOR %s@'%%'", (user,))
            found[user] = sorted(row[0] for row in cursor.fetchall())
        return found


def state_outputs(result, state: str) -> list[dict]:
    """What ``state`` passed on, each time it exited."""
    return [
        json.loads(event["stateExitedEventDetails"]["output"])
        for event in result.view.events
        if event["type"].endswith("StateExited") and event["stateExitedEventDetails"]["name"] == state
    ]


def creds_file(emulator, uris: list[str], name: str) -> dict:
    """A creds file as the pipeline reads it from the edxanalytics bucket."""
    [uri] = [uri for uri in uris if uri.endswith("/" + name)]
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return json.loads(emulator.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def test_the_workflow_sets_up_the_databases_once_the_rds_instance_is_ready(emulator, minimal_input, mysql_server):
    seed(emulator, minimal_input)

    first = execute(emulator, minimal_input)
    assert first.status == "SUCCEEDED", first.cause
    ran = [state["state"] for state in first.view.summary()]
    assert ran.index("Analytics RDS ready?") < ran.index("Create databases and users") < ran.index("Render secure-repo files")
    [database] = state_outputs(first, "Create databases and users")
    assert database["ready"] is True and set(database["setup"]) == SETUP_KEYS
    setup = database["setup"]

    # The pipeline's creds files, written by Render from our secrets, log in and do their jobs.
    analytics = creds_file(emulator, first.output["creds_uploaded"], "edxanalytics_creds")
    assert analytics == secret(emulator, setup["analytics_db_secret_arn"])
    analytics_server = database_server(emulator, Names(minimal_input["deployment_id"]).analytics_rds)  # an RDS server of its own
    with login(analytics_server, analytics["username"], analytics["password"]) as connection:
        can_create_a_table(connection, "reports")
    read_only = creds_file(emulator, first.output["creds_uploaded"], "edxapp_creds")
    assert read_only == secret(emulator, setup["edxapp_ro_secret_arn"])
    with login(mysql_server, read_only["username"], read_only["password"]) as connection:
        assert refused(connection, "CREATE DATABASE probe") in DENIED

    versions = secret_versions(emulator, setup)
    second = execute(emulator, minimal_input, name=executions.execution_name(minimal_input, attempt=2))
    assert second.status == "SUCCEEDED", second.cause
    assert [output["setup"] for output in state_outputs(second, "Create databases and users")] == [setup]
    assert secret_versions(emulator, setup) == versions


def test_dbsetup_creates_the_runbooks_databases_and_users(emulator, branch_state, mysql_server, minimal_input):
    setup = invoke(emulator, branch_state)

    assert set(setup) == SETUP_KEYS
    assert setup["databases"] == ["dashboard", "analytics-api", "reports"]
    assert setup["migration_user"] == EDXAPP_DB_USER
    # The RDS endpoints, as on AWS (each leads to a MariaDB here, on whatever port it listens).
    endpoints = [
        emulator.client("rds").describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]["Endpoint"]
        for identifier in (branch_state["database"]["db_instance_id"], minimal_input["edxapp"]["db_instance_id"])
    ]
    assert [setup["analytics_host"], setup["edxapp_host"]] == [endpoint["Address"] for endpoint in endpoints]
    analytics_port, edxapp_port = (str(endpoint["Port"]) for endpoint in endpoints)

    names = Names(minimal_input["deployment_id"])
    analytics, read_only = secret(emulator, names.analytics_db_secret), secret(emulator, names.edxapp_ro_db_secret)
    assert setup["analytics_db_secret_arn"].split(":secret:")[1].startswith(names.analytics_db_secret)
    assert setup["edxapp_ro_secret_arn"].split(":secret:")[1].startswith(names.edxapp_ro_db_secret)
    assert analytics == {
        "host": setup["analytics_host"],
        "port": analytics_port,
        "username": "analytics",
        "password": analytics["password"],
    }
    assert read_only == {"host": setup["edxapp_host"], "port": edxapp_port, "username": RO, "password": read_only["password"]}
    assert len(analytics["password"]) == len(read_only["password"]) == 32 and analytics["password"] != read_only["password"]
    for arn in (setup["analytics_db_secret_arn"], setup["edxapp_ro_secret_arn"]):
        tags = emulator.client("secretsmanager").describe_secret(SecretId=arn)["Tags"]
        assert {"Key": TAG_DEPLOYMENT, "Value": minimal_input["deployment_id"]} in tags

    with login(mysql_server, "analytics", analytics["password"]) as connection:
        for database in ANALYTICS_DATABASES:
            can_create_a_table(connection, database)
        assert refused(connection, "SELECT user FROM mysql.user") in DENIED

    with login(mysql_server, RO, read_only["password"], database="reports") as connection:
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM mysql.db")  # SELECT on everything, as the runbook grants
        assert refused(connection, "CREATE TABLE probe (id INT)") in DENIED
    assert grants(mysql_server, [RO])[RO][0].startswith(f"GRANT SELECT ON *.* TO `{RO}`@`%`")
    assert len(grants(mysql_server, [RO])[RO]) == 1

    migration = secret(emulator, minimal_input["edxapp"]["migration_secret_id"])
    with login(mysql_server, EDXAPP_DB_USER, migration["password"]) as connection:
        for database in ANALYTICS_DATABASES:
            can_create_a_table(connection, database)


def test_read_only_user_cannot_write(emulator, branch_state, mysql_server):
    invoke(emulator, branch_state)
    password = secret(emulator, Names(branch_state["deployment"]["deployment_id"]).edxapp_ro_db_secret)["password"]
    table = f"`reports`.`probe_{secrets.token_hex(4)}`"
    with mysql_server.connect(autocommit=True) as connection, connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {table} (id INT PRIMARY KEY)")
        cursor.execute(f"INSERT INTO {table} VALUES (1)")
    try:
        with login(mysql_server, RO, password) as connection:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT id FROM {table}")
                assert cursor.fetchall() == ((1,),)
            assert refused(connection, f"INSERT INTO {table} VALUES (2)") in DENIED
            assert refused(connection, f"DELETE FROM {table}") in DENIED
    finally:
        with mysql_server.connect(autocommit=True) as connection, connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {table}")


def test_no_password_reaches_the_output_or_the_logs(emulator, branch_state, minimal_input):
    setup = invoke(emulator, branch_state)
    names = Names(minimal_input["deployment_id"])
    passwords = {
        f"the password in {name}": secret(emulator, name)["password"]
        for name in (names.analytics_db_secret, names.edxapp_ro_db_secret, minimal_input["edxapp"]["migration_secret_id"])
    }
    passwords["the edxapp admin password"] = emulator.mysql_admin["password"]
    assert "DbSetup" in emulator.log_stream.getvalue()  # the handler's log lines were captured
    assert_no_leak(passwords, {"DbSetup's output": setup, "function logs": emulator.log_stream.getvalue()})


def test_a_second_run_changes_nothing(emulator, branch_state, mysql_server):
    first = invoke(emulator, branch_state)
    versions = secret_versions(emulator, first)
    before = grants(mysql_server, ["analytics", RO, EDXAPP_DB_USER])

    assert invoke(emulator, branch_state) == first
    assert secret_versions(emulator, first) == versions
    assert grants(mysql_server, ["analytics", RO, EDXAPP_DB_USER]) == before
    with mysql_server.connect(autocommit=True) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM mysql.user WHERE user IN ('analytics', %s, %s)", (RO, EDXAPP_DB_USER))
        assert cursor.fetchone() == (3,)
        cursor.execute("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name IN ('dashboard', 'analytics-api', 'reports')")
        assert cursor.fetchone() == (3,)


HAND_MADE_GRANTS = {"select": "GRANT SELECT ON `reports`.* TO %s@'%%'", "insert": "GRANT INSERT ON `reports`.* TO %s@'%%'"}


def hand_made(mysql_server, user: str, grant: str = "select") -> None:
    """A user someone made by hand, with a grant of its own, password "set-by-hand"."""
    with mysql_server.connect(autocommit=True) as connection, connection.cursor() as cursor:
        cursor.execute("CREATE USER %s@'%%' IDENTIFIED BY 'set-by-hand'", (user,))
        cursor.execute(HAND_MADE_GRANTS[grant], (user,))


def test_users_that_exist_without_our_record_are_refused_and_left_alone(emulator, branch_state, mysql_server, minimal_input):
    """A hand-made user is someone else's: DbSetup neither alters nor revokes it, and says how to adopt it."""
    names = Names(minimal_input["deployment_id"])
    for user in ("analytics", RO):
        hand_made(mysql_server, user)
        before = grants(mysql_server, [user])
        response = emulator.client("lambda").invoke(FunctionName="DbSetupFunction", Payload=json.dumps(branch_state))
        error = json.loads(response["Payload"].read())
        assert error["errorType"] == "OwnershipError", error
        assert f"'{user}'@'%' already exists" in error["errorMessage"] and "aws secretsmanager create-secret" in error["errorMessage"]
        assert grants(mysql_server, [user]) == before
        login(mysql_server, user, "set-by-hand").close()
        with mysql_server.connect(autocommit=True) as connection, connection.cursor() as cursor:
            cursor.execute("DROP USER %s@'%%'", (user,))
    assert RO in error["errorMessage"] and "options.edxapp_ro_user" in error["errorMessage"]
    assert names.edxapp_ro_db_secret not in {s["Name"] for s in emulator.client("secretsmanager").list_secrets()["SecretList"]}


def test_users_adopted_by_their_record_get_the_stored_passwords(emulator, branch_state, mysql_server, minimal_input):
    """Adopting (the refusal's command): our secret, tagged with the deployment, holds the user's login."""
    names = Names(minimal_input["deployment_id"])
    for user, secret_name in (("analytics", names.analytics_db_secret), (RO, names.edxapp_ro_db_secret)):
        hand_made(mysql_server, user, grant="insert")
        emulator.client("secretsmanager").create_secret(
            Name=secret_name,
            SecretString=json.dumps({"username": user, "password": "adopted-pw"}),
            Tags=[{"Key": TAG_DEPLOYMENT, "Value": minimal_input["deployment_id"]}],
        )
    setup = invoke(emulator, branch_state)
    for user, arn in (("analytics", setup["analytics_db_secret_arn"]), (RO, setup["edxapp_ro_secret_arn"])):
        assert secret(emulator, arn)["password"] == "adopted-pw"
        login(mysql_server, user, "adopted-pw").close()
        with pytest.raises(pymysql.err.OperationalError):
            login(mysql_server, user, "set-by-hand")
    [only] = grants(mysql_server, [RO])[RO]  # adopted: the runbook's privileges, its own INSERT revoked
    assert only.startswith(f"GRANT SELECT ON *.* TO `{RO}`@`%`")


def test_rotation_stores_new_passwords_first_and_sets_them(emulator, branch_state, mysql_server):
    first = invoke(emulator, branch_state)
    old = {arn: secret(emulator, arn)["password"] for arn in (first["analytics_db_secret_arn"], first["edxapp_ro_secret_arn"])}
    branch_state["deployment"]["options"]["rotate_generated_passwords"] = True

    assert invoke(emulator, branch_state) == first
    for (arn, old_password), user in zip(old.items(), ("analytics", RO), strict=True):
        new_password = secret(emulator, arn)["password"]
        assert new_password != old_password
        login(mysql_server, user, new_password).close()
        with pytest.raises(pymysql.err.OperationalError):
            login(mysql_server, user, old_password)


def test_a_secret_that_is_not_ours_stops_the_phase(emulator, branch_state, minimal_input):
    name = Names(minimal_input["deployment_id"]).analytics_db_secret
    emulator.client("secretsmanager").create_secret(Name=name, SecretString=json.dumps({"password": "someone else's"}))
    response = emulator.client("lambda").invoke(FunctionName="DbSetupFunction", Payload=json.dumps(branch_state))
    error = json.loads(response["Payload"].read())
    assert response.get("FunctionError") and error["errorType"] == "OwnershipError"
    assert name in error["errorMessage"] and "someone else's" not in error["errorMessage"]


def test_a_bad_migration_user_name_stops_the_phase_before_anything_is_created(emulator, branch_state, minimal_input):
    sm = emulator.client("secretsmanager")
    sm.put_secret_value(
        SecretId=minimal_input["edxapp"]["migration_secret_id"], SecretString=json.dumps({"username": "edx'; --", "password": "pw"})
    )
    response = emulator.client("lambda").invoke(FunctionName="DbSetupFunction", Payload=json.dumps(branch_state))
    error = json.loads(response["Payload"].read())
    assert error["errorType"] == "PreflightError" and "edxapp.migration_secret_id" in error["errorMessage"]
    names = Names(minimal_input["deployment_id"])
    listed = {s["Name"] for s in sm.list_secrets()["SecretList"]}
    assert names.analytics_db_secret not in listed and names.edxapp_ro_db_secret not in listed


def test_a_renamed_read_only_user_replaces_ours_but_never_the_runbooks_shared_one(emulator, branch_state, mysql_server, minimal_input):
    names = Names(minimal_input["deployment_id"])
    invoke(emulator, branch_state)
    branch_state["deployment"]["options"]["edxapp_ro_user"] = "acme_custom_ro"
    setup = invoke(emulator, branch_state)
    users = grants(mysql_server, ["acme_custom_ro"])
    assert users["acme_custom_ro"][0].startswith("GRANT SELECT ON *.* TO `acme_custom_ro`@`%`")
    login(mysql_server, "acme_custom_ro", secret(emulator, setup["edxapp_ro_secret_arn"])["password"]).close()
    with mysql_server.connect() as connection, connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM mysql.user WHERE user = %s", (RO,))
        assert cursor.fetchone() == (0,)  # ours, renamed: dropped

    # A record from before read-only users were per deployment names the runbook's edxapp_ro, which
    # another deployment on the server may still use: the new name is created, edxapp_ro stays.
    hand_made(mysql_server, "edxapp_ro")
    emulator.client("secretsmanager").put_secret_value(
        SecretId=names.edxapp_ro_db_secret, SecretString=json.dumps({"username": "edxapp_ro", "password": "set-by-hand"})
    )
    del branch_state["deployment"]["options"]["edxapp_ro_user"]
    invoke(emulator, branch_state)
    login(mysql_server, "edxapp_ro", "set-by-hand").close()
    assert secret(emulator, names.edxapp_ro_db_secret)["username"] == RO
