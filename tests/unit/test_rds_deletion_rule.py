"""The emulator's rule "a failed RDS instance is deleted only without a final snapshot"
(local/rds_deletion.py): it bites (the canary in tests/static proves moto alone lacks it)."""

import pytest
from botocore.exceptions import ClientError

from analytics_provisioner.aws import rds
from analytics_provisioner.local.emulator import ACCOUNT
from analytics_provisioner.local.rds_deletion import set_status

REGION = "us-east-1"


def _instance(aws, identifier: str, status: str) -> dict:
    aws.client("rds").create_db_instance(
        DBInstanceIdentifier=identifier,
        Engine="mysql",
        DBInstanceClass="db.t3.small",
        AllocatedStorage=20,
        MasterUsername="admin",
        MasterUserPassword="not-a-secret-1",
    )
    set_status(ACCOUNT, REGION, identifier, status)
    return rds.db_instance(identifier, REGION)


@pytest.mark.parametrize("status", rds.NO_FINAL_SNAPSHOT_STATUSES)
def test_an_instance_in_a_failure_state_refuses_a_final_snapshot_and_goes_without_one(aws, status):
    _instance(aws, "broken", status)
    api = aws.client("rds")
    with pytest.raises(ClientError, match="InvalidDBInstanceState.*SkipFinalSnapshot"):
        api.delete_db_instance(DBInstanceIdentifier="broken", FinalDBSnapshotIdentifier="broken-final")
    api.delete_db_instance(DBInstanceIdentifier="broken", SkipFinalSnapshot=True)
    assert rds.db_instance("broken", REGION) is None
    assert api.describe_db_snapshots()["DBSnapshots"] == []


def test_an_available_instance_takes_its_final_snapshot(aws):
    _instance(aws, "healthy", "available")
    assert rds.delete_instance(rds.db_instance("healthy", REGION), REGION, "healthy-final") == rds.DELETING
    assert [s["DBSnapshotIdentifier"] for s in aws.client("rds").describe_db_snapshots()["DBSnapshots"]] == ["healthy-final"]
