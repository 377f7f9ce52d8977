"""DbSetup: the runbook's "Create analytics databases and user", "Create migration user" and
"Create edxapp read-only user", over pymysql, once the analytics RDS instance is available.

The users are owned: each server's users are recorded in one of the deployment's secrets before the
server sees them (the analytics RDS: ``db/analytics-g<N>``, covering the analytics user and the
migration user; the edxapp server: ``db/edxapp-ro``). A user that exists without that record was made
by someone else and is refused, never altered; the teardown drops only recorded users.

Passwords we generate are stored in that record and reused on every re-run, which sets them again
(ALTER USER); ``options.rotate_generated_passwords`` makes new ones. The migration user is the edxapp
MySQL user: its credentials stay in the deployer's secret. The read-only user on the edxapp server,
which deployments share, is named per deployment (``Deployment.edxapp_ro_user``).
"""

from .. import mysql
from ..aws import rds, secrets
from ..aws.errors import aws_call
from ..deployment import Deployment, ResolvedDeployment
from ..errors import InputError, OwnershipError, PreflightError
from ..naming import ANALYTICS_DB_USER, RUNBOOK_EDXAPP_RO_USER, TAG_DEPLOYMENT, migration_user_refusal
from ..plan import Change, create, keep, modify
from ..state import DbSetupOutput, ReadyDatabase

ANALYTICS_DATABASES = ("dashboard", "analytics-api", "reports")
CHARSET = "utf8"  # the runbook's "default character set utf8"
ANALYTICS_USER = ANALYTICS_DB_USER
LOGIN_KEYS = ("host", "port", "username", "password")


def run(deployment: ResolvedDeployment, database: ReadyDatabase) -> DbSetupOutput:
    names = deployment.names
    with aws_call("read the database credentials"):
        analytics_server = analytics_master(
            deployment, database.db_instance_id, database.endpoint, database.port, database.master_secret_arn
        )
        edxapp_server = edxapp_admin(deployment)
        migration = migration_login(deployment)

    with mysql.session(analytics_server) as cursor:
        analytics_secret_arn, analytics_password = claim(
            deployment, cursor, analytics_server, names.analytics_db_secret, ANALYTICS_USER, also=(migration[0],)
        )
        mysql.apply(cursor, *analytics_server_objects(analytics_password, migration))

    read_only = deployment.edxapp_ro_user
    with mysql.session(edxapp_server) as cursor:
        edxapp_ro_secret_arn, edxapp_ro_password = claim(deployment, cursor, edxapp_server, names.edxapp_ro_db_secret, read_only)
        mysql.apply(cursor, *edxapp_server_objects(edxapp_ro_password, read_only))

    return DbSetupOutput(
        analytics_db_secret_arn=analytics_secret_arn,
        edxapp_ro_secret_arn=edxapp_ro_secret_arn,
        migration_user=migration[0],
        databases=list(ANALYTICS_DATABASES),
        analytics_host=analytics_server.host,
        edxapp_host=edxapp_server.host,
    )


def analytics_server_objects(
    analytics_password: str,
    migration: tuple[str, str],
    databases: tuple[str, ...] = ANALYTICS_DATABASES,
    analytics_user: str = ANALYTICS_USER,
) -> tuple[list[mysql.Database], list[mysql.User]]:
    """Runbook: "Create analytics databases and user" and "Create migration user" (the edxapp user's
    name and password, ALL on the same databases)."""
    migration_name, migration_password = migration
    return (
        [mysql.Database(name, CHARSET) for name in databases],
        [
            mysql.User(analytics_user, analytics_password, all_on=databases),
            mysql.User(migration_name, migration_password, all_on=databases),
        ],
    )


def edxapp_server_objects(password: str, user: str) -> tuple[list[mysql.Database], list[mysql.User]]:
    """Runbook: "Create edxapp read-only user": SELECT on everything, and nothing more."""
    return [], [mysql.User(user, password, select_everything=True, exact_privileges=True)]


def analytics_master(deployment: Deployment, db_instance_id: str, host: str, port: int, master_secret_arn: str) -> mysql.Server:
    """The analytics RDS instance's server, logged in as its master (the RDS-managed secret)."""
    master = secrets.read_json(master_secret_arn, deployment.region, ("username", "password"), "the analytics RDS master secret")
    return mysql.Server(host, int(port), master["username"], master["password"], label=f"the analytics RDS {db_instance_id}")


def edxapp_admin(deployment: Deployment) -> mysql.Server:
    secret_id = deployment.edxapp.db_admin_secret_id
    admin = secrets.read_opted_in(secret_id, deployment.region, deployment.deployment_id, LOGIN_KEYS, "edxapp.db_admin_secret_id")
    if not str(admin["port"]).isdigit():
        raise PreflightError(f'edxapp.db_admin_secret_id: the port in secret {secret_id!r} is not a number; store e.g. "3306"')
    return mysql.Server(
        admin["host"],
        int(admin["port"]),
        admin["username"],
        admin["password"],
        label=f"the edxapp database server (admin secret {secret_id!r})",
    )


def migration_login(deployment: Deployment) -> tuple[str, str]:
    """(name, password) of the edxapp MySQL user, checked before anything is created."""
    secret_id = deployment.edxapp.migration_secret_id
    login = secrets.read_opted_in(
        secret_id, deployment.region, deployment.deployment_id, ("username", "password"), "edxapp.migration_secret_id"
    )
    try:
        mysql.check_user_name(login["username"])
    except InputError as exc:
        raise PreflightError(f"edxapp.migration_secret_id: secret {secret_id!r}: {exc}") from None
    refusal = migration_user_refusal(login["username"], secret_id)
    if refusal:
        raise PreflightError(refusal)
    return login["username"], login["password"]


def claim(
    deployment: Deployment, cursor, server: mysql.Server, secret_name: str, username: str, also: tuple[str, ...] = ()
) -> tuple[str, str]:
    """(secret ARN, password) of ``username``, whose record is ``secret_name`` (it covers ``also`` too).

    A user that exists without our record is refused before anything changes. The record is written
    before the user is created; a user it named before under another name (options.edxapp_ro_user
    changed) is ours and is dropped, except the runbook's ``edxapp_ro``: before read-only users were
    per deployment, every deployment on a server recorded that one, so it may still serve another."""
    region, owner = deployment.region, deployment.deployment_id
    with aws_call(f"read secret {secret_name}"):
        arn = secrets.arn_if_ours(secret_name, region, owner)
        stored = secrets.read_json(arn, region) if arn else {}
    owned = {stored.get("username"), *also} if stored else set()
    for name in (username, *also):
        if name not in owned and mysql.user_exists(cursor, name):
            raise OwnershipError(not_ours_message(deployment, server, name, secret_name, stored))
    retired = stored.get("username") if stored.get("username") not in (None, username) else None
    keep_retired = retired == RUNBOOK_EDXAPP_RO_USER
    password = None if deployment.options.rotate_generated_passwords or retired else stored.get("password")
    login = {"host": server.host, "port": str(server.port), "username": username, "password": password or mysql.new_password()}
    if login != stored or arn is None:
        arn = secrets.put_json(secret_name, login, region, owner, f"MySQL user {username} on {server.label} (analytics-provisioner)")
    if retired and not keep_retired:
        mysql.drop_user(cursor, retired)
    return arn, login["password"]


def not_ours_message(deployment: Deployment, server: mysql.Server, name: str, secret_name: str, stored: dict) -> str:
    owner = deployment.deployment_id
    record = f"its secret {secret_name} names {stored['username']!r}" if stored else f"no secret {secret_name}"
    rename = (
        f"leave options.edxapp_ro_user unset for this deployment's own name {deployment.names.edxapp_ro_user!r}, or set an unused name"
        if name == deployment.edxapp_ro_user
        else f"drop or rename that user on {server.label}"
    )
    adopt = (
        f"aws secretsmanager create-secret --name {secret_name} --kms-key-id <the stack's SecretsKeyArn> "
        f'--tags Key={TAG_DEPLOYMENT},Value={owner} --secret-string \'{{"username": "{name}", "password": "<its password>"}}\''
    )
    return (
        f"MySQL user '{name}'@'%' already exists on {server.label} and deployment {owner!r} has no record of creating it "
        f"({record}), so it was left as it is. To keep it apart, {rename}. To adopt it (its privileges become the runbook's "
        f"and teardown drops it): {adopt}, then start again"
    )


# The plan: from names only; it never logs in to a database -----------------------------------------
NOT_LOGGED_IN = "would ensure (the plan does not log in)"


def plan(deployment: Deployment) -> list[Change]:
    names, region = deployment.names, deployment.region
    new_server = rds.db_instance(names.analytics_rds, region) is None
    analytics_server, edxapp_server = f"analytics RDS {names.analytics_rds}", f"edxapp RDS {deployment.edxapp.db_instance_id}"
    migration_user = migration_login(deployment)[0]  # read as Validate reads it; only the name is kept

    def ensured(kind: str, name: str, what: str, on_new_server: bool) -> Change:
        return create(kind, name, f"{what} (on the new server)") if on_new_server else modify(kind, name, f"{what}: {NOT_LOGGED_IN}")

    databases, server_objects = ANALYTICS_DATABASES, []
    server_objects += [ensured("MySQL database", f"{db} on {analytics_server}", f"character set {CHARSET}", new_server) for db in databases]
    server_objects += [
        ensured("MySQL user", f"{ANALYTICS_USER} on {analytics_server}", f"ALL on {', '.join(databases)}", new_server),
        ensured(
            "MySQL user",
            f"{migration_user} on {analytics_server}",
            f"the edxapp migration user (edxapp.migration_secret_id), ALL on {', '.join(databases)}",
            new_server,
        ),
        ensured(
            "MySQL user",
            f"{deployment.edxapp_ro_user} on {edxapp_server}",
            "SELECT on everything, nothing more; refused if it exists without our record",
            False,
        ),
    ]
    rotate = deployment.options.rotate_generated_passwords
    for secret_name, user in ((names.analytics_db_secret, ANALYTICS_USER), (names.edxapp_ro_db_secret, deployment.edxapp_ro_user)):
        described = secrets.describe(secret_name, region)
        if described is None:
            server_objects.append(create("secret", secret_name, f"the generated password of MySQL user {user}"))
        elif rotate or described.get("DeletedDate"):
            server_objects.append(
                modify(
                    "secret",
                    secret_name,
                    f"a new password of MySQL user {user} (options.rotate_generated_passwords)"
                    if rotate
                    else "scheduled for deletion: restored",
                )
            )
        else:
            server_objects.append(keep("secret", secret_name, f"holds the password of MySQL user {user}, reused"))
    return server_objects
