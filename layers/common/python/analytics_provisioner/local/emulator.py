"""The local AWS: moto with the Step Functions interpreter on, our handlers in-process.

``Emulator`` deploys what ``template.yaml`` declares (functions with their VPC config, state
machines, the secure-repo bucket, the KMS key) with the stack parameters an operator would give
(``stack_parameters``: the DbSetup function in the default VPC, in a security group of its own),
installs the region catalogue moto lacks, makes every RDS endpoint lead to a real MySQL/MariaDB
through the network rule (``reachability.RdsNetwork``; ``database_server`` says which), and scales the state machine's Wait and
Retry sleeps, botocore's retry back-off and a status check's pauses between reads (``polling.sleep``) (0 = instant) without
touching ``time.sleep`` elsewhere.
"""

import copy
import functools
import io
import json
import logging
import os
import zipfile
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from unittest import mock

from botocore import endpoint as botocore_endpoint
from moto import mock_aws
from moto.core.config import DefaultConfig
from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.iam.models import AWSManagedPolicy, IAMBackend
from moto.kms import models as kms_models
from moto.rds.models import MasterUserSecret
from moto.s3.models import FakeBucket
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec import execute_state
from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from .. import locking
from ..aws import clients
from ..naming import TAG_DEPLOYMENT
from ..phases import polling
from . import bucket_tags, catalog, deprecated_images, ec2_limits, hooks, rds_deletion, rds_lifecycle, rds_snapshot_tags, search_limits
from . import template as cfn
from .clock import Clock, TaskThread
from .create_duplicates import CreateDuplicates
from .dynamodb_atomic import AtomicWrites
from .ec2_describe_lag import Ec2DescribeLag
from .execution_events import ExecutionEvents
from .faults import Faults
from .iam_propagation import IamPropagation
from .lambda_hook import LambdaHook
from .mysql import LOCAL_ADMIN_PREFIX, MysqlServer
from .reachability import RdsNetwork
from .s3_listing import shallow_version_listing
from .secrets_listing import ListSecretsLag
from .ssm_run_command import SsmRunCommand

ACCOUNT = "123456789012"
MOTO_INTERPRETER_LOGGER = "moto.stepfunctions.parser"
MOTO_CONFIG: DefaultConfig = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
# AWS-managed policies exist in every real account; the EMR default roles attach these. Loading
# only them (not moto's ~1,200) keeps each emulator's first IAM call fast. An operator attaches
# AmazonSSMManagedInstanceCore to the analytics role for Verify's RDS test (README, Outputs).
AWS_MANAGED_POLICIES = ("AmazonElasticMapReduceRole", "AmazonElasticMapReduceforEC2Role", "AmazonSSMManagedInstanceCore")
FAKE_ENV = {  # moto's fake credentials, only ever set inside the emulator
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",  # nosec B105  # moto's fake credentials, only set inside the local emulator
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",  # nosec B105  # moto's fake credentials, only set inside the local emulator
    "MOTO_ALLOW_NONEXISTENT_REGION": "false",
    # moto's own images carry today's date as their creation date (a 2017 Ubuntu 16.04 image would
    # look new): the images AWS lists are the catalogue's (catalog.UBUNTU_IMAGES).
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
}
DB_SETUP_GROUP_NAME = "analytics-provisioner-dbsetup"


def _permission_over_tls(bucket: FakeBucket, action: str, resource: str):
    """moto evaluates bucket policies without request context, so a TLS-only Deny
    (aws:SecureTransport = false) would deny everything; every call here is HTTPS: drop those."""
    from moto.iam.access_control import IAMPolicy, PermissionResult

    if bucket.policy is None:
        return PermissionResult.NEUTRAL
    policy = json.loads(bucket.policy)
    statements = [st for st in policy.get("Statement", []) if not _denies_plain_http(st)]
    if not statements:
        return PermissionResult.NEUTRAL
    return IAMPolicy(json.dumps({**policy, "Statement": statements})).is_action_permitted(action, resource)


def _denies_plain_http(statement: dict) -> bool:
    condition = statement.get("Condition", {}).get("Bool", {})
    return statement.get("Effect") == "Deny" and str(condition.get("aws:SecureTransport")).lower() == "false"


@functools.cache
def _managed_policy_documents() -> dict:
    """The few AWS managed policies we use, parsed once per process: moto's catalogue of all of them is a
    JSON document of megabytes, and moto builds an IAM backend per region of every emulator."""
    data = json.loads(aws_managed_policies_data)
    return {name: data[name] for name in AWS_MANAGED_POLICIES}


@functools.cache
def _private_key(key_spec: str):
    """moto generates a private key for every KMS key it creates, symmetric ones too (an RSA-2048 key takes
    tens of milliseconds, once per emulator); local mode signs nothing with them, so one per spec serves all."""
    return _generate_private_key(key_spec)


_generate_private_key = kms_models.generate_private_key


_validate_definition = StepFunctionsParserBackend._validate_definition
_valid_definitions: set[str] = set()


def _validate_definition_once(definition: str) -> None:
    """moto parses a state machine's definition with its ANTLR grammar to validate it (about 0.3 s for
    ours); a definition it accepted once is accepted again, so each process validates it once."""
    if definition not in _valid_definitions:
        _validate_definition(definition)
        _valid_definitions.add(definition)


def _managed_policies(backend: IAMBackend) -> list:
    documents = _managed_policy_documents()
    return [
        AWSManagedPolicy.from_data(name, backend.account_id, backend.region_name, copy.deepcopy(documents[name]))
        for name in AWS_MANAGED_POLICIES
    ]


class Emulator:
    def __init__(
        self,
        region: str = "us-east-1",
        mysql: MysqlServer | None = None,
        time_scale: float = 0.0,
        log_stream: io.TextIOBase | None = None,
        deploy: bool = True,
        parameters: dict[str, str] | None = None,
        database_servers: Callable[[], AbstractContextManager[MysqlServer]] | None = None,
    ):
        self.region = region
        self.parameters = dict(parameters or {})
        self.mysql = mysql
        self.database_servers = database_servers
        self._servers: dict[tuple[str, str], MysqlServer] = {}
        self.network: RdsNetwork | None = None
        self.time_scale = time_scale
        self.log_stream = log_stream or io.StringIO()
        self.mysql_admin: dict | None = None
        self.state_machines: dict[str, str] = {}
        self.secure_repo_bucket = f"analytics-provisioner-secure-repo-{ACCOUNT}"
        self.hook: LambdaHook | None = None
        self.clock = Clock()
        self.iam_propagation = IamPropagation(self.clock)
        self.ec2_describe_lag = Ec2DescribeLag(self.clock)
        self.ssm = SsmRunCommand(self.clock, region, ACCOUNT)
        self.execution_events = ExecutionEvents()
        self.tables: dict[str, str] = {}
        self.deploy = deploy
        self._stack = ExitStack()

    def __enter__(self) -> "Emulator":
        stack = self._stack
        stack.enter_context(mock.patch.dict(os.environ, {**FAKE_ENV, "AWS_REGION": self.region, "AWS_DEFAULT_REGION": self.region}))
        stack.enter_context(mock_aws(config=MOTO_CONFIG))
        clients.reset()
        stack.callback(clients.reset)
        stack.enter_context(hooks.installed(catalog.HANDLERS))
        catalog.seed_public_images(ACCOUNT, self.region)
        bucket_tags.install()
        stack.callback(bucket_tags.uninstall)
        stack.enter_context(shallow_version_listing())
        self.faults = Faults()
        self.faults.install()
        stack.callback(self.faults.uninstall)
        self._install_rules(stack)
        self._scale_sleeps(stack)
        stack.enter_context(mock.patch.object(IAMBackend, "_init_aws_policies", _managed_policies))
        stack.enter_context(mock.patch.object(kms_models, "generate_private_key", _private_key))
        stack.enter_context(mock.patch.object(StepFunctionsParserBackend, "_validate_definition", staticmethod(_validate_definition_once)))
        stack.enter_context(mock.patch.object(FakeBucket, "get_permission", _permission_over_tls))
        if self.mysql:
            self._leave_the_server_as_found(stack, self.mysql)
            self.mysql_admin = self.mysql.create_admin()
            stack.callback(self.mysql.drop_user, self.mysql_admin["username"])
            self._master_secrets_log_in_as(stack, self.mysql_admin)
            self.network = RdsNetwork(self.region, self.database_server)
            self.network.install(stack)
        self._capture_logs(stack)
        self._create_secure_repo()
        if self.deploy:
            self._deploy()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stack.close()

    def client(self, service: str):
        return clients.client(service, self.region)

    # --- setup -------------------------------------------------------------------------------
    def _install_rules(self, stack: ExitStack) -> None:
        """AWS's behaviours moto lacks, each a named rule in its own module with a test that proves it bites."""
        for rule in (
            ListSecretsLag(self.clock),
            self.iam_propagation,
            self.ec2_describe_lag,
            CreateDuplicates(),
            self.ssm,
            self.execution_events,
            AtomicWrites(),
        ):
            rule.install()
            stack.callback(rule.uninstall)
        stack.enter_context(hooks.installed(deprecated_images.rule(ACCOUNT) + ec2_limits.rule(ACCOUNT) + search_limits.RULE))
        stack.enter_context(
            hooks.installed(rds_deletion.rule(ACCOUNT, self.region) + rds_snapshot_tags.rule(ACCOUNT) + rds_lifecycle.rule())
        )

    def _scale_sleeps(self, stack: ExitStack) -> None:
        scale, clock = self.time_scale, self.clock
        real_sleep = retrier_decl.time.sleep

        def scaled_sleep(seconds):
            clock.wait(seconds, slept=seconds * scale)
            if scale > 0:
                real_sleep(seconds * scale)

        def scaled_wait(_self, env, wait_seconds):
            scaled_sleep(wait_seconds)

        stack.enter_context(mock.patch.object(retrier_decl, "time", mock.Mock(sleep=scaled_sleep)))
        stack.enter_context(mock.patch.object(botocore_endpoint, "time", mock.Mock(sleep=scaled_sleep)))
        stack.enter_context(mock.patch.object(wait_function.WaitFunction, "_wait_interval", scaled_wait))
        stack.enter_context(mock.patch.object(polling, "sleep", scaled_sleep))  # a status check's pauses between reads
        stack.enter_context(mock.patch.object(locking, "clock", clock.now))  # the lock's settles_at passes with the Wait states
        stack.enter_context(mock.patch.object(execute_state, "Thread", TaskThread))  # the clock follows a Task to its Retry

    def _leave_the_server_as_found(self, stack: ExitStack, mysql: MysqlServer) -> None:
        """What the emulated account's deployments made on the server goes with the account: the
        accounts and databases made while it ran are dropped when it closes (others' admins spared)."""
        found = mysql.contents()

        def restore():
            if self.network is not None and self.network.used:
                mysql.restore(found, spare_prefix=LOCAL_ADMIN_PREFIX)

        stack.callback(restore)

    def database_server(self, instance: dict) -> MysqlServer:
        """The server behind an RDS instance: with ``database_servers``, one of its own for each instance
        a deployment created (each analytics RDS is a server of its own on AWS too), made on its first
        connection, with the master login of the instance's RDS-managed secret; every other instance
        (the edxapp RDS the runbook assumes), and every instance without ``database_servers``, leads
        to ``mysql``."""
        if self.mysql is None:
            raise RuntimeError("this emulator has no MySQL server: Emulator(mysql=...)")
        tags = {tag["Key"] for tag in instance.get("TagList", [])}
        if self.database_servers is None or TAG_DEPLOYMENT not in tags:
            return self.mysql
        key = (
            instance["DBInstanceArn"],
            str(instance.get("InstanceCreateTime")),
        )  # a new instance under an old name is a new server (moto gives every instance one DbiResourceId)
        if key not in self._servers:
            server = self._stack.enter_context(self.database_servers())
            server.create_admin(self.mysql_admin)
            self._servers[key] = server
        return self._servers[key]

    @staticmethod
    def _master_secrets_log_in_as(stack: ExitStack, admin: dict) -> None:
        """RDS-managed master secrets hold the local server's admin login."""
        master = json.dumps({"username": admin["username"], "password": admin["password"]})
        stack.enter_context(mock.patch.object(MasterUserSecret, "_generate_secret_string", lambda self: master))

    def _capture_logs(self, stack: ExitStack) -> None:
        from ..handler import logger

        for handler in logger.handlers:
            if isinstance(handler, logging.StreamHandler):
                previous = handler.setStream(self.log_stream)
                stack.callback(handler.setStream, previous)
        # moto's interpreter logs every failed state with a dump of the whole program (kilobytes per
        # line); the failure itself is in the execution history, which is what local mode reports.
        interpreter = logging.getLogger(MOTO_INTERPRETER_LOGGER)
        stack.callback(interpreter.setLevel, interpreter.level)
        interpreter.setLevel(logging.CRITICAL)

    def _deploy(self) -> None:
        template = cfn.load()
        role = self.client("iam").create_role(RoleName="analytics-provisioner-local", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        self.parameters = {**self.stack_parameters(), **self.parameters}
        # A function's name is its logical id here (``_create_function``).
        refs = {
            "SecureRepoBucket": self.secure_repo_bucket,
            "SecretsKey": self.secrets_key_arn,
            **self.parameters,
            **{logical_id: logical_id for logical_id in cfn.functions(template)},
        }
        refs.update(self.create_tables(template))
        # The functions share this process, so each one's variables are set for all of them.
        for name, value in {**cfn.global_environment(template), **cfn.referenced_environment(template)}.items():
            os.environ[name] = cfn.resolve(value, refs, template)
        arns, functions_by_name = {}, {}
        for logical_id, spec in cfn.functions(template).items():
            vpc_config = cfn.evaluate(template["Resources"][logical_id]["Properties"].get("VpcConfig"), refs, template)
            arns[logical_id] = self._create_function(logical_id, role, vpc_config)
            functions_by_name[logical_id] = spec
        self.hook = LambdaHook(functions_by_name)
        self.hook.before_invoke.append(self.faults.before_invoke)
        self.hook.install()
        self._stack.callback(self.hook.uninstall)
        for logical_id, machine in cfn.state_machines(template).items():
            substitutions = {key: arns[value["Fn::GetAtt"][0]] for key, value in machine.get("DefinitionSubstitutions", {}).items()}
            definition = cfn.definition(machine, substitutions)
            self.state_machines[logical_id] = self.client("stepfunctions").create_state_machine(
                name=logical_id, definition=definition, roleArn=role
            )["stateMachineArn"]
        self._create_rules(template, {**refs, **self.state_machines}, arns)

    def create_tables(self, template: dict) -> dict[str, str]:
        """The template's DynamoDB tables (named by their logical ids), as CloudFormation creates them."""
        dynamodb = self.client("dynamodb")
        for logical_id, spec in cfn.tables(template).items():
            keys = {key: spec[key] for key in ("KeySchema", "AttributeDefinitions", "BillingMode", "GlobalSecondaryIndexes") if key in spec}
            dynamodb.create_table(TableName=logical_id, **keys)
            self.tables[logical_id] = logical_id
        return dict(self.tables)

    def _create_rules(self, template: dict, refs: dict, function_arns: dict) -> None:
        """The functions' EventBridgeRule events: a rule on the default bus with the function as its target."""
        events = self.client("events")
        for (logical_id, event_name), spec in cfn.eventbridge_rules(template).items():
            rule = f"{logical_id}-{event_name}"
            events.put_rule(Name=rule, EventPattern=json.dumps(cfn.evaluate(spec["Pattern"], refs, template)), State="ENABLED")
            events.put_targets(Rule=rule, Targets=[{"Id": logical_id, "Arn": function_arns[logical_id]}])

    def stack_parameters(self) -> dict[str, str]:
        """What an operator gives ``sam deploy`` (README, Deploying): the DbSetup function in the
        default VPC's default subnets, in a security group of its own."""
        ec2 = self.client("ec2")
        vpc_id = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
        subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "default-for-az", "Values": ["true"]}])[
            "Subnets"
        ]
        group_id = ec2.create_security_group(
            GroupName=DB_SETUP_GROUP_NAME, VpcId=vpc_id, Description="analytics-provisioner database-setup function"
        )["GroupId"]
        return {"DbSetupSubnetIds": ",".join(sorted(s["SubnetId"] for s in subnets)), "DbSetupSecurityGroupId": group_id}

    def _create_secure_repo(self) -> None:
        """The template's KMS key and private bucket (also for unit tests that skip the deploy)."""
        self.secrets_key_arn = self.client("kms").create_key(Description="analytics-provisioner secrets (local)")["KeyMetadata"]["Arn"]
        self.create_bucket(self.secure_repo_bucket)
        self.client("s3").put_bucket_versioning(Bucket=self.secure_repo_bucket, VersioningConfiguration={"Status": "Enabled"})
        self._stack.enter_context(
            mock.patch.dict(os.environ, {"SECURE_REPO_BUCKET": self.secure_repo_bucket, "SECRETS_KMS_KEY_ID": self.secrets_key_arn})
        )

    def _create_function(self, logical_id: str, role: str, vpc_config: dict | None) -> str:
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as zf:
            zf.writestr("app.py", "# runs in-process in local mode\n")
        return self.client("lambda").create_function(
            FunctionName=logical_id,
            Runtime="python3.12",
            Role=role,
            Handler="app.lambda_handler",
            Code={"ZipFile": archive.getvalue()},
            **({"VpcConfig": vpc_config} if isinstance(vpc_config, dict) else {}),
        )["FunctionArn"]

    def _bucket_location(self) -> dict:
        return {} if self.region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": self.region}}

    def create_bucket(self, name: str) -> None:
        self.client("s3").create_bucket(Bucket=name, **self._bucket_location())
