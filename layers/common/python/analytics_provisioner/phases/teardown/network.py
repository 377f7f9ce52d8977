"""Security groups last: take the EMR RDS group off the edxapp RDS instance, revoke every rule in
groups that are not ours (the shared EMR groups, the VPC default group) that references ours,
break the references between our own groups, then delete our DB subnet groups and our groups."""

from botocore.exceptions import ClientError

from ...aws import rds
from ...aws import tags as tagging
from ...aws.clients import client
from ...aws.errors import error_code
from ...errors import TransientAwsError
from ...naming import TAG_DEPLOYMENT
from .request import TeardownRequest


def run(request: TeardownRequest) -> dict:
    deployment = request.deployment
    region, deployment_id = deployment.region, deployment.deployment_id
    ec2 = client("ec2", region)
    ours = ec2.describe_security_groups(Filters=[{"Name": f"tag:{TAG_DEPLOYMENT}", "Values": [deployment_id]}])["SecurityGroups"]
    our_ids = {group["GroupId"] for group in ours}
    reverted = revert_edxapp_db(deployment.edxapp.db_instance_id, our_ids, region)
    vpcs = sorted({group["VpcId"] for group in ours})
    others = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": vpcs}])["SecurityGroups"] if vpcs else []
    revoked = sum(revoke_references(group, our_ids, region) for group in others if group["GroupId"] not in our_ids)
    for group in ours:
        revoke_references(group, our_ids, region)
    subnet_groups = delete_subnet_groups(deployment_id, region)
    for group in ours:
        delete_group(group["GroupId"], region)
    return {"security_groups_deleted": sorted(our_ids), "rules_revoked_in_shared_groups": revoked,
            "edxapp_db_groups_removed": reverted, "db_subnet_groups_deleted": subnet_groups}


def revert_edxapp_db(identifier: str, our_ids: set[str], region: str) -> list[str]:
    """Our groups come off the edxapp instance; a busy instance is retried by the state machine, within its ceiling."""
    instance = rds.db_instance(identifier, region)
    return [] if instance is None else rds.remove_security_groups(instance, our_ids, region)


def revoke_references(group: dict, our_ids: set[str], region: str) -> int:
    """Revoke the rules of ``group`` that name one of our groups; returns how many."""
    ec2 = client("ec2", region)
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group["GroupId"]]}])["SecurityGroupRules"]
    referencing = [rule for rule in rules if rule.get("ReferencedGroupInfo", {}).get("GroupId") in our_ids]
    for egress, revoke in ((False, ec2.revoke_security_group_ingress), (True, ec2.revoke_security_group_egress)):
        ids = [rule["SecurityGroupRuleId"] for rule in referencing if rule["IsEgress"] is egress]
        if ids:
            revoke(GroupId=group["GroupId"], SecurityGroupRuleIds=ids)
    return len(referencing)


def delete_subnet_groups(deployment_id: str, region: str) -> list[str]:
    rds, deleted = client("rds", region), []
    for page in rds.get_paginator("describe_db_subnet_groups").paginate():
        for group in page["DBSubnetGroups"]:
            tags = tagging.from_list(rds.list_tags_for_resource(ResourceName=group["DBSubnetGroupArn"])["TagList"])
            if tagging.belongs_to(tags, deployment_id):
                rds.delete_db_subnet_group(DBSubnetGroupName=group["DBSubnetGroupName"])
                deleted.append(group["DBSubnetGroupName"])
    return deleted


def delete_group(group_id: str, region: str) -> None:
    try:
        client("ec2", region).delete_security_group(GroupId=group_id)
    except ClientError as exc:
        code = error_code(exc)
        if code == "DependencyViolation":
            raise TransientAwsError(f"security group {group_id} is still in use (network interfaces of terminated instances linger for a minute); retrying") from exc
        if code != "InvalidGroup.NotFound":
            raise
