"""AWS rule: an RDS instance in ``failed``, ``incompatible-restore`` or ``incompatible-network`` state
can be deleted only with ``SkipFinalSnapshot`` (DeleteDBInstance's reference: "When a DB instance is
in a failure state ... you can only delete it when you skip creation of the final snapshot"); AWS
answers InvalidDBInstanceState otherwise. moto deletes it and takes the snapshot, and its instances
are never in such a state: ``set_status`` puts one there for a test, as AWS would after a failure.
"""

from moto.rds.models import rds_backends

from ..aws.rds import NO_FINAL_SNAPSHOT_STATUSES
from . import hooks


def set_status(account: str, region: str, identifier: str, status: str) -> None:
    """What AWS does to an instance that failed (moto's instances are always available)."""
    rds_backends[account][region].databases[identifier].status = status


def rule(account: str, region: str) -> list[hooks.Entry]:
    def refuse_a_final_snapshot(context, **_):
        request = hooks.request(context)
        if request.get("SkipFinalSnapshot"):
            return None
        identifier = request.get("DBInstanceIdentifier", "")
        instance = rds_backends[account][region].databases.get(identifier)
        if instance is None or instance.status not in NO_FINAL_SNAPSHOT_STATUSES:
            return None
        return hooks.aws_error(
            "InvalidDBInstanceState",
            f"Instance {identifier} is in {instance.status} state: it can only be deleted with SkipFinalSnapshot set to true",
        )

    return [
        ("provide-client-params.rds.DeleteDBInstance", hooks.remember_request),
        ("before-call.rds.DeleteDBInstance", refuse_a_final_snapshot),
    ]
