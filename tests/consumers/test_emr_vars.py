"""emr-vars.yml as batch/provision.yml receives it: ansible extra vars, in a Jenkins job that sourced jenkins_env."""

import yaml
from secure_repo import run_ansible

from analytics_provisioner.naming import EMR_EC2_ROLE, Names
from upstream import AMI_ERA_STEP_TYPES

# The arguments batch/provision.yml gives its EMR module, each from an extra var of the same name.
PROVISION_ARGUMENTS = [
    "name",
    "region",
    "keypair_name",
    "vpc_subnet_id",
    "log_uri",
    "role",
    "release_label",
    "instance_groups",
    "steps",
    "applications",
    "configurations",
]


def playbook(ctx) -> list[dict]:
    # provision.yml hands ``role`` to its emr module as job_flow_role: the instance profile of the
    # deployment's own EMR role, never the shared default one.
    job_flow_role = Names(ctx.deployment_id).emr_instance_profile
    assert job_flow_role != EMR_EC2_ROLE
    return [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [
                {
                    "name": "the arguments provision.yml passes to its emr module",
                    "set_fact": {"emr_module_args": {argument: f"{{{{ {argument} }}}}" for argument in PROVISION_ARGUMENTS}},
                },
                {
                    "name": "cluster and network",
                    "assert": {
                        "quiet": True,
                        "that": [
                            "emr_module_args.name == lookup('env', 'CLUSTER_NAME')",
                            f"emr_module_args.name == '{ctx.emr.cluster_name}'",
                            f"emr_module_args.region == '{ctx.region}'",
                            f"emr_module_args.keypair_name == '{ctx.emr.key_pair_name}'",
                            f"emr_module_args.vpc_subnet_id == '{ctx.emr.subnet_id}'",
                            f"emr_module_args.role == '{job_flow_role}'",
                            f"emr_module_args.log_uri == 's3://{ctx.buckets.emr_logs}/logs/'",
                            f"emr_module_args.release_label == '{ctx.emr.release_label}'",
                        ],
                    },
                },
                {
                    "name": "instance groups the module turns into MASTER, CORE and TASK",
                    "assert": {
                        "quiet": True,
                        "that": [
                            "emr_module_args.instance_groups.keys() | sort == ['core', 'master', 'task']",
                            "emr_module_args.instance_groups.values() | map(attribute='num_instances') | map('int') | list == [1, 2, 0]",
                            "emr_module_args.instance_groups.values() | map(attribute='market') | unique | list == ['ON_DEMAND']",
                            "emr_module_args.instance_groups.values() | map(attribute='type') | select('match', '^[a-z0-9]+\\.[a-z0-9]+$') | list | length == 3",
                        ],
                    },
                },
                {
                    "name": "applications, configurations and the Sqoop step from the EMR bucket",
                    "assert": {
                        "quiet": True,
                        "that": [
                            "emr_module_args.applications | map(attribute='name') | list == ['Hadoop', 'Hive', 'Sqoop-Sandbox', 'Ganglia']",
                            "emr_module_args.configurations | map(attribute='classification') | list == ['mapred-site', 'yarn-site']",
                            "emr_module_args.steps | map(attribute='type') | list == ['script']",
                            f"emr_module_args.steps | map(attribute='type') | intersect({sorted(AMI_ERA_STEP_TYPES)}) | list == []",
                            f"emr_module_args.steps[0].step_args == ['s3://{ctx.buckets.emr}/install-sqoop', 's3://{ctx.buckets.emr}']",
                            "lookup('env', 'TASK_CONFIGURATION_S3_BUCKET') == '" + ctx.buckets.emr + "'",
                        ],
                    },
                },
            ],
        }
    ]


def test_provision_playbook_reads_its_arguments_in_a_jenkins_job(render_repo, tmp_path):
    repo = render_repo()
    play = tmp_path / "play.yml"
    play.write_text(yaml.safe_dump(playbook(repo.ctx), sort_keys=False))
    result = run_ansible(play, [repo.path("analytics-tasks/emr-vars.yml")], tmp_path, env_file=repo.path("analytics-tasks/jenkins_env"))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "ok=4" in result.stdout and "failed=0" in result.stdout


def test_without_jenkins_env_the_cluster_has_no_name(render_repo, tmp_path):
    """The name really comes from the job's environment."""
    repo = render_repo()
    play = tmp_path / "play.yml"
    play.write_text(yaml.safe_dump(playbook(repo.ctx), sort_keys=False))
    result = run_ansible(play, [repo.path("analytics-tasks/emr-vars.yml")], tmp_path)
    assert result.returncode != 0 and f"emr_module_args.name == '{repo.ctx.emr.cluster_name}'" in result.stdout
