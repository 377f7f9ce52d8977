"""Local mode's database servers: each RDS instance a deployment creates is a MySQL server of its own,
as on AWS (moto has no servers at all: every endpoint would otherwise lead to one MariaDB, where two
deployments' analytics users would be one account and a deleted instance's databases would stay).
The edxapp RDS the runbook assumes leads to the test's server; what a run made on it goes with the
emulator."""

from analytics_provisioner.local.emulator import Emulator
from analytics_provisioner.naming import TAG_DEPLOYMENT
from testkit import REGION


def _instance(emulator, identifier: str, ours: bool = True) -> dict:
    rds = emulator.client("rds")
    tags = [{"Key": TAG_DEPLOYMENT, "Value": "acme-demo"}] if ours else []
    rds.create_db_instance(
        DBInstanceIdentifier=identifier,
        Engine="mysql",
        DBInstanceClass="db.t3.small",
        AllocatedStorage=20,
        MasterUsername="admin",
        ManageMasterUserPassword=True,
        Tags=tags,
    )
    return rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]


def test_each_instance_a_deployment_creates_is_a_server_of_its_own(mysql_server, runbook_users, database_servers):
    with Emulator(region=REGION, mysql=mysql_server, database_servers=database_servers.server, deploy=False) as emulator:
        edxapp, first, second = _instance(emulator, "edxapp-db", ours=False), _instance(emulator, "one"), _instance(emulator, "two")
        assert emulator.database_server(edxapp) == mysql_server
        servers = {emulator.database_server(instance) for instance in (first, second)}
        assert len(servers) == 2 and mysql_server not in servers
        assert emulator.database_server(first) is emulator.database_server(first)
        # The master login of the instance's RDS-managed secret works there.
        admin = emulator.mysql_admin
        for server in servers:
            server.__class__(server.host, server.port, admin["username"], admin["password"]).connect().close()

        with emulator.database_server(first).connect(autocommit=True) as connection, connection.cursor() as cursor:
            cursor.execute("CREATE DATABASE made_on_one")
        emulator.client("rds").delete_db_instance(DBInstanceIdentifier="one", SkipFinalSnapshot=True)
        again = _instance(emulator, "one")
        assert "made_on_one" not in emulator.database_server(again).contents().databases  # a new instance is a new server


def test_without_servers_every_instance_leads_to_the_one_server_and_the_run_leaves_it_as_found(mysql_server, runbook_users):
    found = mysql_server.contents()
    with Emulator(region=REGION, mysql=mysql_server, deploy=False) as emulator:
        assert emulator.database_server(_instance(emulator, "one")) == mysql_server
        emulator.network.used = True  # as when a function connected through an RDS endpoint
        with mysql_server.connect(autocommit=True) as connection, connection.cursor() as cursor:
            cursor.execute("CREATE USER 'made_in_the_run'@'%' IDENTIFIED BY 'pw'")
            cursor.execute("CREATE DATABASE made_in_the_run")
    assert mysql_server.contents() == found
