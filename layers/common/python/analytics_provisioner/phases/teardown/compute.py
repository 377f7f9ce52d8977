"""Instances and Elastic IPs: release the addresses, terminate the instances (waited on later). The
EMR clusters the deployment's Jenkins started are terminated with the slow deletions and waited on
with them."""

from ...aws import emr
from ...aws.clients import client
from ...naming import TAG_DEPLOYMENT
from .request import TeardownRequest

ALIVE = ["pending", "running", "stopping", "stopped", "shutting-down"]


def _ours(deployment_id: str) -> list[dict]:
    return [{"Name": f"tag:{TAG_DEPLOYMENT}", "Values": [deployment_id]}]


def instances(deployment_id: str, region: str, states=ALIVE) -> list[dict]:
    reservations = client("ec2", region).describe_instances(
        Filters=_ours(deployment_id) + [{"Name": "instance-state-name", "Values": list(states)}]
    )["Reservations"]
    return [instance for reservation in reservations for instance in reservation["Instances"]]


def run(request: TeardownRequest) -> dict:
    deployment_id, region = request.deployment.deployment_id, request.deployment.region
    ec2 = client("ec2", region)
    released = []
    for address in ec2.describe_addresses(Filters=_ours(deployment_id))["Addresses"]:
        if address.get("AssociationId"):
            ec2.disassociate_address(AssociationId=address["AssociationId"])
        ec2.release_address(AllocationId=address["AllocationId"])
        released.append(address["PublicIp"])
    terminating = [i["InstanceId"] for i in instances(deployment_id, region) if i["State"]["Name"] != "shutting-down"]
    if terminating:
        ec2.terminate_instances(InstanceIds=terminating)
    return {"addresses_released": released, "instances_terminating": terminating}


def remaining(request: TeardownRequest) -> list[str]:
    deployment = request.deployment
    return [i["InstanceId"] for i in instances(deployment.deployment_id, deployment.region)]


def terminate_clusters(request: TeardownRequest) -> list[str]:
    """Terminate the alive EMR clusters whose instances run with the deployment's EMR instance profile
    (only its Jenkins may pass that profile); their ids, those terminating already included."""
    region = request.deployment.region
    clusters = emr.clusters_with_instance_profile(request.deployment.names.emr_instance_profile, region)
    for cluster in clusters:
        emr.terminate(cluster, region)
    return sorted(cluster["Id"] for cluster in clusters)
