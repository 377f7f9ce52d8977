"""Canary: local mode patches a private moto API. If moto changes, this fails loudly, first."""

import contextlib
import json
import socket
from datetime import UTC

import boto3
from moto import mock_aws

from analytics_provisioner.aws import clients
from analytics_provisioner.local.emulator import Emulator
from analytics_provisioner.local.lambda_hook import LambdaHook
from analytics_provisioner.local.runner import execute


def test_the_lambda_hook_runs_our_handler_and_reports_errors_like_lambda(monkeypatch):
    with Emulator() as emu:
        assert isinstance(emu.hook, LambdaHook)
        calls = []
        emu.hook.before_invoke.append(lambda name, event: calls.append(name))
        result = execute(emu, {"deployment_id": "Not Valid"}, name="canary")
        assert calls[:2] == ["DeploymentLockFunction", "ValidateFunction"], (
            "moto no longer routes Lambda tasks through LambdaSimpleBackend.invoke"
        )
        assert result.status == "FAILED"
        assert result.error == "Validate.InputError", result.error
        assert "deployment_id: 'Not Valid' is not valid" in result.cause


def test_interpreter_executes_and_waits_are_scaled():
    with Emulator() as emu:
        sfn = emu.client("stepfunctions")
        definition = {
            "StartAt": "W",
            "States": {"W": {"Type": "Wait", "Seconds": 3600, "Next": "P"}, "P": {"Type": "Pass", "Result": {"ok": True}, "End": True}},
        }
        arn = sfn.create_state_machine(name="canary-wait", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/x")[
            "stateMachineArn"
        ]
        execution = sfn.start_execution(stateMachineArn=arn, name="c1", input="{}")["executionArn"]
        from analytics_provisioner.execution import follow

        described, _ = follow(sfn, execution, timeout_seconds=30)
        assert described["status"] == "SUCCEEDED" and json.loads(described["output"]) == {"ok": True}


def _create_tagged_bucket(s3) -> list:
    s3.create_bucket(Bucket="tagged-at-creation", CreateBucketConfiguration={"Tags": [{"Key": "owner", "Value": "us"}]})
    return s3.get_bucket_tagging(Bucket="tagged-at-creation")["TagSet"]


def test_moto_ignores_the_tags_of_create_bucket_and_the_bucket_tags_rule_applies_them(monkeypatch):
    import boto3
    from botocore.exceptions import ClientError

    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(variable, "testing")
    with mock_aws():
        try:
            bare = _create_tagged_bucket(boto3.client("s3", region_name="us-east-1"))
        except ClientError as exc:
            bare = exc.response["Error"]["Code"]
    assert bare == "NoSuchTagSet", "moto now applies CreateBucket's tags: local/bucket_tags.py may go"
    with Emulator(deploy=False):
        assert _create_tagged_bucket(clients.client("s3", "us-east-1")) == [{"Key": "owner", "Value": "us"}]


def test_moto_still_has_no_network_so_the_emulators_rule_is_needed():
    """moto accepts a function in one group and a private RDS instance whose group admits nothing,
    calls the instance available, leaves the connection to pymysql's real socket, and has no
    Reachability Analyzer. When this fails, moto models networks: compare its rule with
    local/reachability.py and drop ours if it is the same."""
    import pymysql
    import pytest

    with mock_aws():
        ec2, rds = boto3.client("ec2", "us-east-1"), boto3.client("rds", "us-east-1")
        vpc_id = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        function_group = ec2.create_security_group(GroupName="fn", Description="fn", VpcId=vpc_id)["GroupId"]
        db_group = ec2.create_security_group(GroupName="db", Description="db", VpcId=vpc_id)["GroupId"]
        role = boto3.client("iam").create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        boto3.client("lambda", "us-east-1").create_function(
            FunctionName="fn",
            Runtime="python3.12",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
            VpcConfig={"SubnetIds": [], "SecurityGroupIds": [function_group]},
        )
        instance = rds.create_db_instance(
            DBInstanceIdentifier="db",
            Engine="mysql",
            DBInstanceClass="db.t3.small",
            AllocatedStorage=20,
            MasterUsername="admin",
            MasterUserPassword="password1",
            VpcSecurityGroupIds=[db_group],
            PubliclyAccessible=False,
        )["DBInstance"]
        assert instance["DBInstanceStatus"] == "available"
        assert ec2.describe_security_groups(GroupIds=[db_group])["SecurityGroups"][0]["IpPermissions"] == []
        assert pymysql.connections.socket is socket
        with pytest.raises(NotImplementedError):
            ec2.create_network_insights_path(Source=function_group, Destination=db_group, Protocol="tcp", DestinationPort=3306)


# moto still lacks these AWS rules, which local/ applies (drop a rule once moto has it) -------------
def test_moto_lists_deprecated_images_and_sets_no_deprecation_time():
    """local/deprecated_images.py: AWS hides public images older than two years unless asked."""
    from datetime import datetime

    import boto3
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.amis import Ami

    with mock_aws():
        backend = ec2_backends["123456789012"]["us-east-1"]
        old = Ami(
            backend,
            "ami-0123456789abcdef0",
            name="ubuntu-xenial-16.04",
            owner_id="099720109477",
            public=True,
            creation_date=datetime(2019, 1, 1, tzinfo=UTC),
        )
        backend.amis[old.id] = old
        images = boto3.client("ec2", "us-east-1").describe_images(Owners=["099720109477"])["Images"]
        assert [(image["ImageId"], image.get("DeprecationTime")) for image in images if image["ImageId"] == old.id] == [(old.id, None)]


def test_moto_accepts_a_principal_and_an_instance_profile_the_moment_they_exist(monkeypatch):
    """local/iam_propagation.py: AWS refuses both until IAM has propagated them."""
    import boto3

    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(variable, "testing")
    with mock_aws():
        iam, ec2 = boto3.client("iam", "us-east-1"), boto3.client("ec2", "us-east-1")
        user = iam.create_user(UserName="fresh")["User"]["Arn"]
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": user}, "Action": "es:*", "Resource": "*"}],
        }
        boto3.client("opensearch", "us-east-1").create_domain(DomainName="fresh", AccessPolicies=json.dumps(policy))
        iam.create_role(RoleName="fresh", AssumeRolePolicyDocument="{}")
        profile = iam.create_instance_profile(InstanceProfileName="fresh")["InstanceProfile"]
        iam.add_role_to_instance_profile(InstanceProfileName="fresh", RoleName="fresh")
        image = ec2.describe_images()["Images"][0]["ImageId"]
        assert ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, IamInstanceProfile={"Arn": profile["Arn"]})["Instances"]


def test_moto_has_no_ssm_agents_and_its_run_command_runs_nothing(monkeypatch):
    """local/ssm_run_command.py: AWS lists only instances whose agent registered, refuses commands for
    any other, and reports what the script did; moto lists nothing (not implemented), takes a command
    for an instance that does not exist and says it succeeded without running it."""
    import boto3
    import pytest

    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(variable, "testing")
    with mock_aws():
        ssm = boto3.client("ssm", "us-east-1")
        with pytest.raises(NotImplementedError):
            ssm.describe_instance_information()
        command = ssm.send_command(
            InstanceIds=["i-0123456789abcdef0"], DocumentName="AWS-RunShellScript", Parameters={"commands": ["exit 1"]}
        )["Command"]["CommandId"]
        invocation = ssm.get_command_invocation(CommandId=command, InstanceId="i-0123456789abcdef0")
        assert (invocation["Status"], invocation["ResponseCode"]) == ("Success", 0)


def test_moto_deletes_a_failed_rds_instance_with_a_final_snapshot(monkeypatch):
    """local/rds_deletion.py: AWS deletes an instance in failed/incompatible-restore/incompatible-network
    state only with SkipFinalSnapshot."""
    import boto3

    from analytics_provisioner.local.rds_deletion import set_status

    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(variable, "testing")
    with mock_aws():
        rds = boto3.client("rds", "us-east-1")
        rds.create_db_instance(
            DBInstanceIdentifier="broken",
            Engine="mysql",
            DBInstanceClass="db.t3.small",
            AllocatedStorage=20,
            MasterUsername="admin",
            MasterUserPassword="not-a-secret-1",
        )
        set_status("123456789012", "us-east-1", "broken", "failed")
        assert rds.describe_db_instances()["DBInstances"][0]["DBInstanceStatus"] == "failed"
        rds.delete_db_instance(DBInstanceIdentifier="broken", FinalDBSnapshotIdentifier="broken-final")
        assert [s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots()["DBSnapshots"]] == ["broken-final"]


def test_moto_sends_no_execution_status_change_event_and_never_invokes_a_lambda_target(monkeypatch):
    """local/execution_events.py: on AWS an ended execution is an EventBridge event, delivered to Lambda targets."""
    from moto.awslambda_simple.models import LambdaSimpleBackend

    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(variable, "testing")
    invoked = []
    monkeypatch.setattr(LambdaSimpleBackend, "invoke", lambda self, *args, **kwargs: invoked.append(args) or b"{}")
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}):
        sfn, events, sqs = (boto3.client(service, "us-east-1") for service in ("stepfunctions", "events", "sqs"))
        queue = sqs.create_queue(QueueName="status-changes")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        pattern = {"source": ["aws.states"], "detail-type": ["Step Functions Execution Status Change"]}
        events.put_rule(Name="ended", EventPattern=json.dumps(pattern))
        events.put_targets(Rule="ended", Targets=[{"Id": "queue", "Arn": queue_arn}])
        machine = sfn.create_state_machine(
            name="canary",
            roleArn="arn:aws:iam::123456789012:role/x",
            definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        )["stateMachineArn"]
        from analytics_provisioner.execution import follow

        follow(sfn, sfn.start_execution(stateMachineArn=machine, name="ends", input="{}")["executionArn"], timeout_seconds=30)
        assert "Messages" not in sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0), (
            "moto now emits status changes: local/execution_events.py may go"
        )
        events.put_targets(Rule="ended", Targets=[{"Id": "fn", "Arn": "arn:aws:lambda:us-east-1:123456789012:function:target"}])
        with contextlib.suppress(Exception):  # moto may refuse a Lambda target outright: not delivering is the point
            events.put_events(Entries=[{"Source": "aws.states", "DetailType": "Step Functions Execution Status Change", "Detail": "{}"}])
        assert invoked == [], "moto's EventBridge now invokes Lambda targets: local/execution_events.py may deliver through it"


def test_moto_lets_two_racing_conditional_writes_both_succeed(monkeypatch):
    """local/dynamodb_atomic.py: DynamoDB applies a conditional write atomically; moto reads, checks and writes unlocked."""
    import sys

    from testkit import REPO

    sys.path.insert(0, str(REPO / "tests" / "unit"))
    from test_lock_rules import create_lock_table, race_conditional_writes, slowed_reads

    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(variable, "testing")
    slowed_reads(monkeypatch)
    with mock_aws():
        dynamodb = boto3.client("dynamodb", "us-east-1")
        assert len(race_conditional_writes(dynamodb, create_lock_table(dynamodb))) == 2, (
            "moto's conditional writes are atomic now: local/dynamodb_atomic.py may go"
        )


def test_moto_accepts_names_types_and_volumes_aws_refuses(monkeypatch):
    """local/ec2_limits.py and local/search_limits.py: AWS refuses each of these; catalog.py answers
    DescribeInstanceTypeLimits, which moto does not implement."""
    import boto3
    from botocore.exceptions import ClientError

    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(variable, "testing")
    with mock_aws():
        ec2, opensearch = boto3.client("ec2", "us-east-1"), boto3.client("opensearch", "us-east-1")
        vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        assert ec2.create_security_group(GroupName="sg-acme", Description="x", VpcId=vpc)["GroupId"]
        subnet_1e = ec2.describe_subnets(Filters=[{"Name": "availability-zone", "Values": ["us-east-1e"]}])["Subnets"][0]["SubnetId"]
        offered_1e = ec2.describe_instance_type_offerings(
            LocationType="availability-zone",
            Filters=[{"Name": "location", "Values": ["us-east-1e"]}, {"Name": "instance-type", "Values": ["t3.medium"]}],
        )["InstanceTypeOfferings"]
        x86 = next(i for i in ec2.describe_images()["Images"] if i["Architecture"] == "x86_64")["ImageId"]
        assert (
            offered_1e == []
            and ec2.run_instances(ImageId=x86, InstanceType="t3.medium", SubnetId=subnet_1e, MinCount=1, MaxCount=1)["Instances"]
        )
        assert ec2.run_instances(ImageId=x86, InstanceType="t4g.medium", MinCount=1, MaxCount=1)["Instances"]  # arm64-only type, x86 image
        domain = opensearch.create_domain(
            DomainName="big",
            EngineVersion="Elasticsearch_7.10",
            ClusterConfig={"InstanceType": "t2.small.search"},
            EBSOptions={"EBSEnabled": True, "VolumeSize": 500},
            EncryptionAtRestOptions={"Enabled": True},
        )
        assert domain["DomainStatus"]["EBSOptions"]["VolumeSize"] == 500
        try:
            opensearch.describe_instance_type_limits(InstanceType="t2.small.search", EngineVersion="Elasticsearch_7.10")
            implemented = True
        except ClientError:
            implemented = False
        assert not implemented


def test_moto_gives_a_restored_instance_its_sources_tags_though_the_snapshot_has_none(monkeypatch):
    """local/rds_snapshot_tags.py: AWS gives a restored instance the snapshot's tags."""
    import boto3

    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(variable, "testing")
    with mock_aws():
        rds = boto3.client("rds", "us-east-1")
        rds.create_db_instance(
            DBInstanceIdentifier="source",
            Engine="mysql",
            DBInstanceClass="db.t3.small",
            MasterUsername="admin",
            ManageMasterUserPassword=True,
            AllocatedStorage=20,
            CopyTagsToSnapshot=False,
            Tags=[{"Key": "owner", "Value": "me"}],
        )
        rds.create_db_snapshot(DBInstanceIdentifier="source", DBSnapshotIdentifier="snap")
        assert rds.describe_db_snapshots(DBSnapshotIdentifier="snap")["DBSnapshots"][0].get("TagList", []) == []
        restored = rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="copy", DBSnapshotIdentifier="snap")["DBInstance"]
        assert restored["TagList"] == [{"Key": "owner", "Value": "me"}]


def test_moto_ignores_engine_lifecycle_support(monkeypatch):
    """local/rds_lifecycle.py: AWS enrolls a new instance in Extended Support unless told otherwise, and reports it."""
    import boto3

    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(variable, "testing")
    with mock_aws():
        rds = boto3.client("rds", "us-east-1")
        for identifier, request in (("unasked", {}), ("disabled", {"EngineLifecycleSupport": "open-source-rds-extended-support-disabled"})):
            rds.create_db_instance(
                DBInstanceIdentifier=identifier,
                Engine="mysql",
                EngineVersion="8.0.41",
                DBInstanceClass="db.t3.small",
                AllocatedStorage=20,
                MasterUsername="admin",
                ManageMasterUserPassword=True,
                **request,
            )
        assert [i.get("EngineLifecycleSupport") for i in rds.describe_db_instances()["DBInstances"]] == [None, None]
