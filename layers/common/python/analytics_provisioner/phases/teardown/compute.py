"""Compute's partner: release the Elastic IPs, terminate the instances (waited on in the deletion
loop), delete the key pairs (with the secrets: their private keys are in them). The EMR clusters the
deployment's Jenkins started are terminated with the slow deletions and waited on with them."""

from ...aws import emr, instances
from .request import TeardownRequest


def run(request: TeardownRequest) -> dict:
    deployment_id, region = request.deployment.deployment_id, request.deployment.region
    released = []
    for address in instances.tagged_addresses(deployment_id, region):
        instances.release_address(address, region)
        released.append(address["PublicIp"])
    terminating = [i["InstanceId"] for i in instances.tagged_instances(deployment_id, region) if i["State"]["Name"] != "shutting-down"]
    instances.terminate(terminating, region)
    return {"addresses_released": released, "instances_terminating": terminating}


def remaining(request: TeardownRequest) -> list[str]:
    deployment = request.deployment
    return [i["InstanceId"] for i in instances.tagged_instances(deployment.deployment_id, deployment.region)]


def delete_key_pairs(request: TeardownRequest) -> dict:
    deployment_id, region = request.deployment.deployment_id, request.deployment.region
    key_pairs = instances.tagged_key_pairs(deployment_id, region)
    for name in key_pairs:
        instances.delete_key_pair(name, region)
    return {"key_pairs_deleted": key_pairs}


def terminate_clusters(request: TeardownRequest) -> list[str]:
    """Terminate the alive EMR clusters whose instances run with the deployment's EMR instance profile
    (only its Jenkins may pass that profile); their ids, those terminating already included."""
    region = request.deployment.region
    clusters = emr.clusters_with_instance_profile(request.deployment.names.emr_instance_profile, region)
    for cluster in clusters:
        emr.terminate(cluster, region)
    return sorted(cluster["Id"] for cluster in clusters)
