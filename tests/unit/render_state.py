"""What Validate ... Compute leave behind for Render: the resources, their secrets, and the state naming them."""

import json
import secrets

from analytics_provisioner.aws import secrets as secret_store
from analytics_provisioner.naming import TAG_ALLOW
from analytics_provisioner.state import (
    BucketNames,
    ComputeOutput,
    DbSetupOutput,
    DeployKey,
    ElasticIp,
    IdentityOutput,
    InstanceSummary,
    KeyPairs,
    NetworkOutput,
    ProvisionedDatabase,
    ReadySearch,
    Resources,
    StorageOutput,
)
from samples import resolved, sample


def provision(aws, document: dict) -> dict:
    """What Validate ... Compute would leave behind: the resources, their secrets, and the state naming them
    (what Render does not read is made up: ``samples.sample``)."""
    ec2, iam = aws.client("ec2"), aws.client("iam")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"][0]["SubnetId"]
    deployment = resolved(document, aws.region, vpc, subnet)
    names, region, owner = deployment.names, deployment.region, deployment.deployment_id

    def user_key(user: str, secret_name: str) -> str:
        iam.create_user(UserName=user)
        key = iam.create_access_key(UserName=user)["AccessKey"]
        value = {"access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"], "user_name": user}
        return secret_store.put_json(secret_name, value, region, owner)

    def login(secret_name: str, host: str, user: str) -> str:
        value = {"host": host, "port": "3306", "username": user, "password": secrets.token_urlsafe(24) + "%#:'"}
        return secret_store.put_json(secret_name, value, region, owner)

    domain = aws.client("opensearch").create_domain(DomainName=names.es_domain, EngineVersion="Elasticsearch_7.10")["DomainStatus"]
    aws.client("secretsmanager").create_secret(
        Name=deployment.edxapp.migration_secret_id,
        SecretString=json.dumps({"username": "edxapp001", "password": secrets.token_urlsafe(18)}),
        Tags=[{"Key": TAG_ALLOW, "Value": deployment.deployment_id}],
    )  # opted in by its owner
    buckets = {
        "emr": names.emr_bucket,
        "emr_logs": names.emr_logs_bucket,
        "edxanalytics": names.edxanalytics_bucket,
        "hadoop": names.hadoop_bucket,
        "reports": names.reports_bucket if deployment.features.reports else None,
        "tracking_logs": deployment.edxapp.tracking_logs_bucket,
    }
    for bucket in filter(None, buckets.values()):
        aws.create_bucket(bucket)

    def key_pair(name: str) -> DeployKey:
        pair = ec2.create_key_pair(KeyName=name)
        value = {"key_name": name, "key_pair_id": pair["KeyPairId"], "private_key": pair["KeyMaterial"]}
        public_key = ec2.describe_key_pairs(KeyNames=[name], IncludePublicKey=True)["KeyPairs"][0]["PublicKey"]
        return DeployKey(
            name=name, secret_arn=secret_store.put_json(names.key_pair_secret(name), value, region, owner), public_key=public_key
        )

    eip = ec2.allocate_address(Domain="vpc")
    analytics_host = f"{names.analytics_rds}.abcdefgh.{region}.rds.amazonaws.com"
    reports_key = user_key(names.reports_user, names.reports_user_key_secret) if deployment.features.reports else None
    identity = sample(
        IdentityOutput,
        es_key_secret_arn=user_key(names.es_user, names.es_user_key_secret),
        reports_key_secret_arn=reports_key,
        emr_ec2_instance_profile="acme-prod-emr-ec2",
    )
    setup = DbSetupOutput(
        analytics_db_secret_arn=login(names.analytics_db_secret, analytics_host, "analytics"),
        edxapp_ro_secret_arn=login(names.edxapp_ro_db_secret, "acme-edxapp-db.internal", "edxapp_ro"),
        migration_user="edxapp001",
        databases=["dashboard", "analytics-api", "reports"],
        analytics_host=analytics_host,
        edxapp_host="acme-edxapp-db.internal",
    )
    compute = sample(
        ComputeOutput,
        key_pairs=KeyPairs(
            analytics=key_pair(names.analytics_key_pair),
            director=key_pair(names.director_key_pair),
            jenkins_deploy=key_pair(names.jenkins_deploy_key_pair),
        ),
        analytics_instances=[
            sample(InstanceSummary, instance_id="i-0123456789abcdef0", name=names.analytics_instance(1), private_ip="10.0.1.10")
        ],
        director_instance=sample(
            InstanceSummary, instance_id="i-0123456789abcdef1", name=names.director_instance, public_ip="198.51.100.20"
        ),
        eip=ElasticIp(allocation_id=eip["AllocationId"], public_ip=eip["PublicIp"], instance_id="i-0123456789abcdef0"),
        warnings=[],
    )
    resources = Resources(
        search=sample(ReadySearch, domain_name=names.es_domain, endpoint=domain["Endpoint"], ready=True),
        database=sample(
            ProvisionedDatabase, db_instance_id=names.analytics_rds, endpoint=analytics_host, port=3306, ready=True, setup=setup
        ),
        storage=sample(StorageOutput, buckets=BucketNames(**buckets)),
        compute=compute,
    )
    return {
        "deployment": deployment.to_state(),
        "identity": identity.to_state(),
        "network": sample(NetworkOutput, vpc_id=vpc, subnet_id=subnet, warnings=[]).to_state(),
        "resources": resources.to_state(),
    }
