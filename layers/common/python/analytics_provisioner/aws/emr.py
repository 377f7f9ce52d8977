"""EMR clusters the deployment's Jenkins starts (batch/provision.yml): the teardown finds them by the
deployment's EMR instance profile, which only that Jenkins may pass (policies.emr_provisioning), and
terminates them before the buckets, groups and role they use go."""

from .clients import client

# Every state in which a cluster still runs instances or may start them (EMR's ClusterState).
ALIVE = ["STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING", "TERMINATING"]


def clusters_with_instance_profile(profile: str, region: str) -> list[dict]:
    """The alive clusters whose instances run with ``profile`` (DescribeCluster's Ec2InstanceAttributes)."""
    emr, found = client("emr", region), []
    for page in emr.get_paginator("list_clusters").paginate(ClusterStates=ALIVE):
        for summary in page["Clusters"]:
            cluster = emr.describe_cluster(ClusterId=summary["Id"])["Cluster"]
            used = cluster.get("Ec2InstanceAttributes", {}).get("IamInstanceProfile") or ""
            if used == profile or used.endswith(f"/{profile}"):
                found.append(cluster)
    return found


def terminate(cluster: dict, region: str) -> bool:
    """Terminate one cluster (its termination protection off first); False when it is terminating already."""
    if cluster["Status"]["State"] == "TERMINATING":
        return False
    emr = client("emr", region)
    if cluster.get("TerminationProtected"):
        emr.set_termination_protection(JobFlowIds=[cluster["Id"]], TerminationProtected=False)
    emr.terminate_job_flows(JobFlowIds=[cluster["Id"]])
    return True
