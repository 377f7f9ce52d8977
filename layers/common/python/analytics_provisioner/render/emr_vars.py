"""analytics-tasks/emr-vars.yml: extra-vars for edx-analytics-configuration ``batch/provision.yml``.

The playbook passes neither a service role nor managed security groups to its EMR module, so EMR
uses ``EMR_DefaultRole`` and the ``ElasticMapReduce-master``/``-slave`` groups the Network phase
prepared; ``role`` is the instance profile (the playbook's own default ``emr`` is edX-internal).
"""

from .context import RenderContext
from .formats import Template, dump_ansible_yaml

NAME = "analytics-tasks/emr-vars.yml"

# Cluster size per analytics run: the pipeline's documented sample shape, on a current type.
INSTANCE_TYPE = "m4.xlarge"
INSTANCE_VCPUS = 4
MASTER_INSTANCES = 1
CORE_INSTANCES = 2
APPLICATIONS = ["Hadoop", "Hive", "Sqoop-Sandbox", "Ganglia"]
CONFIGURATIONS = [
    {
        "classification": "mapred-site",
        "properties": {
            "mapreduce.framework.name": "yarn",
            "mapreduce.jobtracker.retiredjobs.cache.size": "50",
            "mapreduce.reduce.shuffle.input.buffer.percent": "0.20",
        },
    },
    {"classification": "yarn-site", "properties": {"yarn.resourcemanager.max-completed-applications": "5"}},
]
# Jenkins' jenkins_env exports CLUSTER_NAME; the playbook names the cluster after it.
CLUSTER_NAME_FROM_ENV = Template("{{ lookup('env', 'CLUSTER_NAME') }}")


def instance_group(count: int) -> dict:
    return {"num_instances": count, "type": INSTANCE_TYPE, "market": "ON_DEMAND"}


def render(ctx: RenderContext) -> str:
    emr_bucket = f"s3://{ctx.buckets.emr}"
    variables = {
        "name": CLUSTER_NAME_FROM_ENV,
        "region": ctx.region,
        "keypair_name": ctx.emr.key_pair_name,
        "vpc_subnet_id": ctx.emr.subnet_id,
        "role": ctx.emr.instance_profile,
        "log_uri": f"s3://{ctx.buckets.emr_logs}/logs/",
        "release_label": ctx.emr.release_label,
        "instance_groups": {
            "master": instance_group(MASTER_INSTANCES),
            "core": instance_group(CORE_INSTANCES),
            "task": instance_group(0),
        },
        "applications": [{"name": name} for name in APPLICATIONS],
        "configurations": CONFIGURATIONS,
        # Hive comes with the release label's applications: the AMI-era hive_install step (hive-script from
        # s3://elasticmapreduce/libs/hive/) is not in upstream's sample-emr-vars.yml since release labels.
        "steps": [
            {
                "type": "script",
                "name": "Install MySQL connector for Sqoop",
                "step_args": [f"{emr_bucket}/install-sqoop", emr_bucket],
                "action_on_failure": "TERMINATE_JOB_FLOW",
            },
        ],
    }
    header = f"EMR cluster for the analytics pipeline of {ctx.deployment_id} (batch/provision.yml extra-vars). No secrets."
    return dump_ansible_yaml(variables, header)
