"""Network's partner, last: take our groups off the edxapp RDS instance, revoke every rule in groups
that are not ours (the shared EMR groups, the VPC default group) that references ours, break the
references between our own groups, then delete our groups."""

from ...aws import ec2, rds
from .request import TeardownRequest


def run(request: TeardownRequest) -> dict:
    deployment = request.deployment
    region, deployment_id = deployment.region, deployment.deployment_id
    ours = ec2.tagged_security_groups(deployment_id, region)
    our_ids = {group["GroupId"] for group in ours}
    reverted = revert_edxapp_db(deployment.edxapp.db_instance_id, our_ids, region)
    others = ec2.security_groups_in(sorted({group["VpcId"] for group in ours}), region)
    revoked = sum(ec2.revoke_rules_referencing(group["GroupId"], our_ids, region) for group in others if group["GroupId"] not in our_ids)
    for group in ours:
        ec2.revoke_rules_referencing(group["GroupId"], our_ids, region)
    for group in ours:
        ec2.delete_security_group(group["GroupId"], region)
    return {"security_groups_deleted": sorted(our_ids), "rules_revoked_in_shared_groups": revoked, "edxapp_db_groups_removed": reverted}


def revert_edxapp_db(identifier: str, our_ids: set[str], region: str) -> list[str]:
    """Our groups come off the edxapp instance; a busy instance is retried by the state machine, within its ceiling."""
    instance = rds.db_instance(identifier, region)
    return [] if instance is None else rds.remove_security_groups(instance, our_ids, region)
