"""What each provisioning phase hands on: one frozen dataclass per phase output (docs/state.md).

The handler decorator rebuilds a phase's inputs from the state with these (``from_state``) and stores
its output with ``to_state()``: the keys are the contract with the state machine's definition
(``statemachine/provision.asl.json`` reads ``ready`` and ``poll.next_wait_seconds``), the CLI and the
failure report. Ids, ARNs, names and endpoints only: never a secret value.

``PHASE_OUTPUTS`` lists them where the state keeps them; docs/state.md's "Phase outputs" is generated
from it (``scripts/state_doc.py``) and tests/static holds the two in step.
"""

from dataclasses import dataclass

from .deployment import ResolvedDeployment
from .record import Record, doc


# Shared parts ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Poll(Record):
    """A poll loop's bookkeeping (phases/polling.py)."""

    checks: int = doc("status checks so far")
    waited_seconds: int = doc("the Wait states' seconds plus the time the checks watched: what the ceiling counts")
    next_wait_seconds: int = doc("the next Wait state's seconds")


# Validate ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PreflightNetwork(Record):
    vpc_id: str = doc("the deployment's VPC (the input's, else the region's default VPC)")
    subnet_id: str = doc("its subnet (the input's, else the VPC's first default subnet)")
    availability_zone: str = doc("the subnet's zone: the EC2 types must be offered there")
    dns_hostnames_enabled: bool = doc("before Network turns them on")
    internet_gateway_route: bool = doc("the subnet routes to an internet gateway (always true: Validate fails otherwise)")


@dataclass(frozen=True)
class PreflightEdxappDb(Record):
    db_instance_id: str = doc("edxapp.db_instance_id")
    engine: str | None = doc("as RDS describes it")
    engine_version: str | None = doc("as RDS describes it")
    status: str | None = doc("as RDS describes it")
    port: int | None = doc("its endpoint's port")
    vpc_id: str | None = doc("the VPC of its subnet group")


@dataclass(frozen=True)
class PreflightDbSetup(Record):
    security_group_id: str = doc("the stack's DbSetupSecurityGroupId")
    edxapp_db_admits: bool | None = doc("the edxapp RDS's own groups admit it on 3306: true, or null when that RDS is in another VPC")


@dataclass(frozen=True)
class Preflight(Record):
    network: PreflightNetwork = doc("the VPC and subnet found")
    edxapp_db: PreflightEdxappDb = doc("the edxapp RDS instance found")
    db_setup: PreflightDbSetup | None = doc(
        "the database-setup function's path (null when the stack parameter DbSetupSecurityGroupId is empty)"
    )


@dataclass(frozen=True)
class ValidateOutput(Record):
    """Validate's output replaces the state: before it nothing exists."""

    deployment: ResolvedDeployment = doc(
        "the normalised input (ResolvedDeployment.to_state()), every option resolved: network.vpc_id/subnet_id, "
        "options.es_engine_version, es_instance_type, es_encryption_at_rest (what the type's InstanceTypeDetails allow unless asked), "
        "the exact rds_engine_version, rds_engine_lifecycle_support (the instance's EngineLifecycleSupport), ubuntu_release, "
        "ami_id (the newest Canonical image unless pinned)"
    )
    preflight: Preflight = doc("the facts the read-only preflight found")
    warnings: list[str] = doc("for the operator; Render repeats them")


# Identity ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IdentityOutput(Record):
    analytics_role_arn: str = doc("the analytics instances' role (provisions EMR clusters)")
    analytics_instance_profile_name: str = doc("its instance profile")
    analytics_instance_profile_arn: str = doc("its instance profile's ARN (Compute launches the analytics instances with it)")
    emr_provisioning_policy_arn: str = doc("the policy that lets the analytics role start and end EMR clusters")
    es_write_policy_arn: str = doc("write access to the deployment's search domain")
    emr_instance_policy_arn: str = doc("the EMR instances' access to the deployment's buckets")
    emr_service_role: str = doc("the shared `EMR_DefaultRole`")
    emr_ec2_role: str = doc("the deployment's own EMR instance role (`Names.emr_instance_role`: emr-vars.yml's `role`)")
    emr_ec2_role_arn: str = doc("its ARN")
    emr_ec2_instance_profile: str = doc("its instance profile, of the same name")
    emr_roles_created: list[str] = doc(
        "the shared EMR roles whose shared tag names this deployment as their creator, in this run or an earlier one"
    )
    es_user_name: str = doc("the Elasticsearch user")
    es_user_arn: str = doc("its ARN (the search domain's access policy names it)")
    es_key_secret_arn: str = doc("the secret holding its access key")
    reports_user_name: str | None = doc("with features.reports: the reports user, else null")
    reports_user_arn: str | None = doc("with features.reports, else null")
    reports_key_secret_arn: str | None = doc("with features.reports: the secret holding its access key, else null")


# Network -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SecurityGroups(Record):
    default: str = doc("the VPC's default group (the instances join it)")
    analytics: str = doc("the deployment's analytics group")
    director: str = doc("the deployment's director group")
    emr_master: str = doc("ElasticMapReduce-master, shared by the VPC's deployments")
    emr_slave: str = doc("ElasticMapReduce-slave, shared by the VPC's deployments")
    emr_rds: str = doc("the deployment's EMR RDS group (on both RDS instances)")


@dataclass(frozen=True)
class NetworkOutput(Record):
    vpc_id: str = doc("the deployment's VPC")
    subnet_id: str = doc("its subnet")
    dns_hostnames_enabled_by_us: bool = doc("this run turned the VPC's DNS hostnames on")
    security_groups: SecurityGroups = doc("group ids by role")
    edxapp_db_security_groups_added: list[str] = doc("the group ids we added to the edxapp RDS")
    warnings: list[str] = doc("for the operator")


# Search ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SearchSecurity(Record):
    encryption_at_rest: bool = doc("as the domain reports it")
    node_to_node_encryption: bool = doc("as the domain reports it")
    enforce_https: bool = doc("as the domain reports it")


@dataclass(frozen=True)
class SearchOutput(Record):
    """The Search branch's ensure and status output (in the branch: `$.search`). The branch ends once `ready`;
    Verify and Render receive it with its endpoint (ReadySearch)."""

    domain_name: str = doc("the Elasticsearch/OpenSearch domain")
    domain_arn: str = doc("its ARN")
    engine_version: str = doc("e.g. Elasticsearch_7.10")
    instance_type: str = doc("its data node's type")
    endpoint: str | None = doc("null until ready")
    ready: bool = doc("the poll loop ends when true")
    poll: Poll = doc("the poll loop's bookkeeping")
    security: SearchSecurity = doc("what the domain encrypts and enforces")


@dataclass(frozen=True)
class ReadySearch(SearchOutput):
    """The domain once the poll loop ended: it has an endpoint."""

    endpoint: str = doc("the domain's endpoint")


# Database and DbSetup ----------------------------------------------------------------------------
@dataclass(frozen=True)
class DbSetupOutput(Record):
    analytics_db_secret_arn: str = doc(
        "user analytics on the analytics server; the record that the deployment owns it and the migration user there"
    )
    edxapp_ro_secret_arn: str = doc(
        "the read-only user on the edxapp server (`Deployment.edxapp_ro_user`: `<id>-edxapp-ro` unless `options.edxapp_ro_user`); "
        "the record that the deployment owns it"
    )
    migration_user: str = doc("the edxapp migration user's name (its password stays in the deployer's secret)")
    databases: list[str] = doc('["dashboard", "analytics-api", "reports"]')
    analytics_host: str = doc("the analytics RDS endpoint DbSetup logged in to")
    edxapp_host: str = doc("the edxapp database server it logged in to")


@dataclass(frozen=True)
class DatabaseOutput(Record):
    """The Database branch's ensure and status output (in the branch: `$.database`); once the instance is ready,
    DbSetup receives it (ReadyDatabase) and its output joins it as `setup` (ProvisionedDatabase: what Verify and Render
    receive)."""

    db_instance_id: str = doc("the analytics RDS instance")
    endpoint: str | None = doc("null until ready")
    port: int = doc("3306")
    master_secret_arn: str | None = doc("the RDS-managed master secret")
    ready: bool = doc("the poll loop ends when true")
    poll: Poll = doc("the poll loop's bookkeeping")
    setup: DbSetupOutput | None = doc("DbSetup's output, once it ran", optional_key=True)


@dataclass(frozen=True)
class ReadyDatabase(DatabaseOutput):
    """The instance once the poll loop ended (what DbSetup receives)."""

    endpoint: str = doc("the instance's endpoint")
    master_secret_arn: str = doc("the RDS-managed master secret")


@dataclass(frozen=True)
class ProvisionedDatabase(ReadyDatabase):
    """The Database branch's result: the instance and its databases and users."""

    setup: DbSetupOutput = doc("DbSetup's output")


# Storage -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BucketNames(Record):
    emr: str = doc("the EMR bucket")
    emr_logs: str = doc("EMR logs (the EMR bucket unless options.separate_emr_logs_bucket)")
    edxanalytics: str = doc("the edxanalytics bucket")
    hadoop: str = doc("hadoop data (the edxanalytics bucket unless options.separate_hadoop_bucket)")
    reports: str | None = doc("null without features.reports")
    tracking_logs: str = doc("edxapp.tracking_logs_bucket")


@dataclass(frozen=True)
class StorageOutput(Record):
    buckets: BucketNames = doc("bucket names by role")
    created: list[str] = doc("the buckets this run created")
    adopted: list[str] = doc("the buckets that existed")
    grades_policy_sid: str | None = doc(
        "the deployment's own statement id in the grades bucket's policy (`Names.grades_policy_sid`); null without grades_bucket"
    )


# Compute -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class InstanceSummary(Record):
    instance_id: str = doc("the EC2 instance")
    name: str = doc("its Name tag")
    private_ip: str = doc("its private address")
    public_ip: str | None = doc("as EC2 describes it")
    private_dns: str | None = doc("as EC2 describes it")


@dataclass(frozen=True)
class ElasticIp(Record):
    allocation_id: str = doc("the Insights address")
    public_ip: str = doc("its address")
    instance_id: str = doc("the Insights instance (analytics-1)")


@dataclass(frozen=True)
class KeyPairRef(Record):
    name: str = doc("the EC2 key pair")
    secret_arn: str = doc("the secret holding its private key")


@dataclass(frozen=True)
class DeployKey(KeyPairRef):
    public_key: str = doc("the public half, to add to the secure repo as a read-only deploy key")


@dataclass(frozen=True)
class KeyPairs(Record):
    analytics: KeyPairRef = doc("the analytics instances' key")
    director: KeyPairRef = doc("the director's key")
    jenkins_deploy: DeployKey = doc("Jenkins' git deploy key, on no instance")


@dataclass(frozen=True)
class ComputeOutput(Record):
    ami_id: str = doc("the image the instances launch from")
    analytics_instances: list[InstanceSummary] = doc("analytics-1 (Insights) first")
    director_instance: InstanceSummary = doc("the director")
    eip: ElasticIp = doc("the Elastic IP on the Insights instance")
    key_pairs: KeyPairs = doc("key pairs by role")
    warnings: list[str] = doc("for the operator")


# The parallel block's result ---------------------------------------------------------------------
@dataclass(frozen=True)
class Resources(Record):
    """``$.resources``: the four branches' results once all of them finished."""

    search: ReadySearch = doc("the Search branch's final output")
    database: ProvisionedDatabase = doc("the Database branch's, with DbSetup's under `setup`")
    storage: StorageOutput = doc("Storage's output")
    compute: ComputeOutput = doc("Compute's output")


# Verify ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PathVerdict(Record):
    path: str = doc('e.g. "DbSetup to the analytics database"')
    port: int = doc("tcp port")
    open: bool | None = doc("true; null = not judged (the edxapp database in another VPC)")
    via: str | None = doc('"<group> admits <source> on tcp <port>", when open', optional_key=True)
    note: str | None = doc("why it was not judged", optional_key=True)


@dataclass(frozen=True)
class RdsTestResult(Record):
    instance_id: str = doc("an analytics instance")
    status: str = doc("passed | inconclusive | running")
    ssm_status: str = doc("the invocation's status in Systems Manager")
    output: str = doc("the end of its output")


@dataclass(frozen=True)
class RdsTest(Record):
    """The runbook's "Test the RDS instance", over SSM Run Command from the analytics instances."""

    status: str = doc("skipped | running | passed | inconclusive")
    reason: str | None = doc("why it was skipped", optional_key=True)
    command_id: str | None = doc("once sent: the SSM command", optional_key=True)
    instance_ids: list[str] | None = doc("the instances it runs on", optional_key=True)
    endpoint: str | None = doc("the database it connects to", optional_key=True)
    port: int | None = doc("its port", optional_key=True)
    not_registered: list[str] | None = doc("analytics instances without a registered SSM agent", optional_key=True)
    poll: Poll | None = doc("the test's poll loop", optional_key=True)
    results: list[RdsTestResult] | None = doc("once checked: one per instance", optional_key=True)


@dataclass(frozen=True)
class VerifyOutput(Record):
    """After the RDS test's poll loop, if it ran. A closed path, an extra opening or a failed RDS test is no output but the
    phase's failure (`Verify.VerificationError`)."""

    paths: list[PathVerdict] = doc("every path the runbook needs, judged on what AWS describes")
    exposed: dict[str, list[str]] = doc(
        'instance name -> every rule admitting addresses outside the VPC, e.g. "tcp 443 from 0.0.0.0/0 (<group>)"'
    )
    rds_test: RdsTest = doc("the RDS test")
    warnings: list[str] = doc("for the operator")


# Render ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class JenkinsHandover(Record):
    user: str = doc("the Jenkins admin user")
    password_secret_id: str = doc("the secret holding its password")
    password_secret_key: str = doc("the password's key in that secret")
    deploy_public_key: str = doc("the deploy key to add to the secure repo")
    secure_repo_url: str | None = doc("input.jenkins' (null without it)")
    secure_repo_branch: str | None = doc("input.jenkins' (null without the URL)")


@dataclass(frozen=True)
class RenderOutput(Record):
    """The execution's final output (the state machine's OutputPath)."""

    secure_repo: str = doc("s3 URI of the deployment's prefix in the secure-repo bucket")
    files: list[str] = doc("s3 URIs of the files written")
    creds_uploaded: list[str] = doc("s3 URIs of the pipeline's credentials files")
    next_steps: list[str] = doc("what the operator does next")
    warnings: list[str] = doc("every phase's warnings and Render's own")
    jenkins: JenkinsHandover = doc("what the scheduler needs")
    verify: VerifyOutput | None = doc("Verify's output")


# Where the state keeps each output (docs/state.md is generated from this) ------------------------
PHASE_OUTPUTS: list[tuple[str, type[Record], str]] = [
    ("$", ValidateOutput, "Validate"),
    ("$.identity", IdentityOutput, "Identity"),
    ("$.network", NetworkOutput, "Network"),
    ("$.resources.search", SearchOutput, "Search"),
    ("$.resources.database", DatabaseOutput, "Database and DbSetup"),
    ("$.resources.storage", StorageOutput, "Storage"),
    ("$.resources.compute", ComputeOutput, "Compute"),
    ("$.verify", VerifyOutput, "Verify"),
    ("$.render", RenderOutput, "Render"),
]
