"""Every name this tool creates, derived from the deployment id in one place.

AWS names have different alphabets and length limits; a name that would be too long keeps a
readable prefix and a short stable hash of the full name, so it stays unique and deterministic.
"""

import hashlib
import re

TAG_DEPLOYMENT = "analytics-provisioner:deployment"
TAG_MANAGED_BY = "analytics-provisioner:managed-by"
TAG_SHARED = "analytics-provisioner:shared"
# On a resource that existed before a deployment (README, "Trust model"): its owner's opt-in.
TAG_ALLOW = "analytics-provisioner:allow"
TOOL = "analytics-provisioner"

DEPLOYMENT_ID_PATTERN = r"^[a-z][a-z0-9-]{1,29}[a-z0-9]$"
# Matched with fullmatch and \Z: Python's "$" also matches before a final newline.
_S3_BUCKET = re.compile(r"(?!xn--)(?!sthree-)(?!.*-s3alias\Z)(?!.*--ol-s3\Z)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IP_ADDRESS = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")
# What AWS refuses in names the id pattern lets through: EC2 CreateSecurityGroup a group name that
# starts with "sg-" (InvalidParameterValue), RDS an identifier with "--" or a final "-".
SECURITY_GROUP_RESERVED_PREFIX = "sg-"
_RDS_IDENTIFIER = re.compile(r"[A-Za-z](?!.*--)[A-Za-z0-9-]{0,62}(?<!-)")

# Account-wide EMR defaults: shared by every deployment, never renamed. The playbook's clusters run with
# the service role; their instances use each deployment's own role (Names.emr_instance_role), not the
# EC2 default role, which earlier versions attached every deployment's search-write policy to.
EMR_SERVICE_ROLE = "EMR_DefaultRole"
EMR_EC2_ROLE = "EMR_EC2_DefaultRole"
EMR_MASTER_SECURITY_GROUP = "ElasticMapReduce-master"
EMR_SLAVE_SECURITY_GROUP = "ElasticMapReduce-slave"

# The pipeline's credentials files, which Render uploads to the root of the edxanalytics bucket.
EDXAPP_CREDS = "edxapp_creds"  # read-only user on the edxapp server ([database-import])
EDXANALYTICS_CREDS = "edxanalytics_creds"  # read-write user on the analytics server ([database-export])

# Before Sids were per deployment every deployment wrote this one (the last writer's grant won).
LEGACY_GRADES_POLICY_SID = "AnalyticsProvisionerGradesDownload"

# MySQL users. On the analytics RDS (a server of the deployment's own) the runbook's names; on the
# edxapp server, which deployments share, the read-only user is per deployment unless the input asks
# for the runbook's ``edxapp_ro`` (options.edxapp_ro_user).
ANALYTICS_DB_USER = "analytics"
ANALYTICS_RDS_MASTER_USER = "admin"  # RDS keeps its password (ManageMasterUserPassword)
RUNBOOK_EDXAPP_RO_USER = "edxapp_ro"
MYSQL_USER_NAME_LIMIT = 32  # MySQL 5.7.8+ and 8 (MariaDB allows 80)
# Accounts the server or RDS keep for themselves: never a user we create.
SYSTEM_MYSQL_USERS = frozenset(
    {"root", "rdsadmin", "rdsrepladmin", "rds_superuser_role", "mysql.sys", "mysql.session", "mysql.infoschema", "mariadb.sys", "PUBLIC"}
)


def _fit(name: str, limit: int) -> str:
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:6]
    return f"{name[: limit - 7].rstrip('-')}-{digest}"


def migration_user_refusal(name: str, secret_id: str) -> str | None:
    """Why the edxapp MySQL user (the migration user, which DbSetup creates on the analytics RDS too)
    cannot have this name, as the refusal names it; None when it can. The analytics RDS's own
    accounts are not the deployer's to take over."""
    if name == ANALYTICS_RDS_MASTER_USER:
        why = "the analytics RDS master user"
    elif name == ANALYTICS_DB_USER:
        why = "the analytics user DbSetup creates on the analytics RDS"
    elif name in SYSTEM_MYSQL_USERS:
        why = "an account the server or RDS keeps for itself"
    else:
        return None
    return (
        f"edxapp.migration_secret_id: the username in secret {secret_id!r} is {name!r}, {why}, and DbSetup creates the "
        "migration user on the analytics RDS under that name; store the login of the edxapp MySQL user the ansible roles "
        'migrate with, e.g. {"username": "edxapp001", "password": ...}'
    )


def is_valid_bucket_name(name: str) -> bool:
    return bool(_S3_BUCKET.fullmatch(name)) and ".." not in name and not _IP_ADDRESS.fullmatch(name)


def name_rule_breaks(deployment_id: str) -> list[str]:
    """Each name of ``deployment_id`` that AWS would refuse, with the rule it breaks (empty: all fine)."""
    names = Names(deployment_id)
    groups = (names.analytics_security_group, names.director_security_group, names.emr_rds_security_group)
    breaks = [
        f"the security group name {group!r} starts with {SECURITY_GROUP_RESERVED_PREFIX!r}, which EC2 refuses"
        for group in groups
        if group.lower().startswith(SECURITY_GROUP_RESERVED_PREFIX)
    ][:1]
    if not _RDS_IDENTIFIER.fullmatch(names.analytics_rds):
        breaks.append(f"the RDS identifier {names.analytics_rds!r} contains '--' or ends with '-', which RDS refuses")
    return breaks


def working_id(deployment_id: str) -> str:
    """A deployment id close to ``deployment_id`` whose names AWS accepts (for refusals to suggest)."""
    collapsed = re.sub("-{2,}", "-", deployment_id)
    rest = collapsed[len(SECURITY_GROUP_RESERVED_PREFIX) :] if collapsed.startswith(SECURITY_GROUP_RESERVED_PREFIX) else None
    candidates = [collapsed] if rest is None else [f"{rest}-sg", f"sg{rest}"]
    fits = (c for c in candidates if re.fullmatch(DEPLOYMENT_ID_PATTERN.strip("^$"), c) and not name_rule_breaks(c))
    return next(fits, "acme-prod")


class Names:
    """The names of one deployment. ``Names("acme-prod").es_domain`` etc."""

    def __init__(self, deployment_id: str, rds_generation: int = 1):
        self.id = deployment_id
        self.rds_generation = rds_generation

    # IAM (account-wide names: always prefixed)
    @property
    def emr_provisioning_policy(self) -> str:
        return _fit(f"{self.id}-provision-emr-clusters", 128)

    @property
    def analytics_role(self) -> str:
        return _fit(f"{self.id}-edxanalytics", 64)

    @property
    def analytics_instance_profile(self) -> str:
        return self.analytics_role

    @property
    def es_write_policy(self) -> str:
        return _fit(f"{self.id}-elasticsearch-all", 128)

    @property
    def emr_instance_role(self) -> str:
        """The role of the deployment's EMR cluster instances, the job-flow role emr-vars.yml names. EMR
        finds it through the instance profile of the same name (it refuses a profile named otherwise)."""
        return _fit(f"{self.id}-emr-ec2", 64)

    @property
    def emr_instance_profile(self) -> str:
        return self.emr_instance_role

    @property
    def emr_instance_policy(self) -> str:
        return _fit(f"{self.id}-emr-instance", 128)

    @property
    def es_user(self) -> str:
        return _fit(f"{self.id}-analytics-elasticsearch", 64)

    @property
    def reports_user(self) -> str:
        return _fit(f"{self.id}-analytics-reports", 64)

    reports_inline_policy = "s3-read-analytics-reports"
    iam_path = "/analytics-provisioner/"

    # EC2
    @property
    def analytics_security_group(self) -> str:
        return f"{self.id}-analytics"

    @property
    def director_security_group(self) -> str:
        return f"{self.id}-director"

    @property
    def emr_rds_security_group(self) -> str:
        return f"{self.id}-emr-rds"

    @property
    def analytics_key_pair(self) -> str:
        return f"{self.id}-analytics"

    @property
    def director_key_pair(self) -> str:
        return f"{self.id}-director"

    @property
    def jenkins_deploy_key_pair(self) -> str:
        """Never on an instance: EC2 generates the key Jenkins' seed job clones the secure repo with."""
        return f"{self.id}-jenkins-deploy"

    def analytics_instance(self, n: int) -> str:
        return f"{self.id}-analytics-{n}"

    @property
    def director_instance(self) -> str:
        return f"{self.id}-director"

    @property
    def insights_eip(self) -> str:
        return f"{self.id}-insights"

    # Search and database
    @property
    def edxapp_ro_user(self) -> str:
        """The read-only MySQL user on the shared edxapp server: per deployment, within MySQL's limit."""
        return _fit(f"{self.id}-edxapp-ro", MYSQL_USER_NAME_LIMIT)

    @property
    def es_domain(self) -> str:
        return _fit(f"{self.id}-analytics-es", 28)

    @property
    def analytics_rds(self) -> str:
        suffix = "" if self.rds_generation == 1 else f"-g{self.rds_generation}"
        return _fit(f"{self.id}-analytics{suffix}", 63)

    def is_analytics_rds(self, identifier: str) -> bool:
        """``identifier`` names one of this deployment's analytics RDS instances (any generation).
        Teardown owns an instance by this name and the tag together: a copy restored from a snapshot
        under another identifier may carry the tag (snapshots of instances created before
        CopyTagsToSnapshot was off, or tagged by hand)."""
        match = re.fullmatch(re.escape(f"{self.id}-analytics") + r"(?:-g([0-9]+))?", identifier)
        return match is not None and Names(self.id, int(match.group(1) or 1)).analytics_rds == identifier

    # S3 (global names)
    @property
    def emr_bucket(self) -> str:
        return f"{self.id}-analytics-emr"

    @property
    def emr_logs_bucket(self) -> str:
        return f"{self.id}-analytics-emr-logs"

    @property
    def edxanalytics_bucket(self) -> str:
        return f"{self.id}-edxanalytics"

    @property
    def hadoop_bucket(self) -> str:
        return f"{self.id}-edxanalytics-hadoop"

    @property
    def reports_bucket(self) -> str:
        return f"{self.id}-analytics-api-reports"

    @property
    def default_tracking_logs_bucket(self) -> str:
        return f"{self.id}-tracking-logs"

    @property
    def grades_policy_sid(self) -> str:
        """Our statement in the grades bucket's policy, one per deployment: deployments sharing the bucket
        keep each other's, and a teardown removes only its own. Policy Sids allow only A-Z a-z 0-9."""
        digest = hashlib.sha256(self.id.encode()).hexdigest()[:8]
        return f"{LEGACY_GRADES_POLICY_SID}{self.id.replace('-', '')}{digest}"

    # Secrets Manager
    def secret(self, purpose: str) -> str:
        return f"{TOOL}/{self.id}/{purpose}"

    @property
    def es_user_key_secret(self) -> str:
        return self.secret("iam/analytics-elasticsearch")

    @property
    def reports_user_key_secret(self) -> str:
        return self.secret("iam/analytics-reports")

    @property
    def analytics_db_secret(self) -> str:
        return self.analytics_db_secret_of(self.rds_generation)

    def analytics_db_secret_of(self, generation: int) -> str:
        return self.secret(f"db/analytics-g{generation}")

    @property
    def edxapp_ro_db_secret(self) -> str:
        return self.secret("db/edxapp-ro")

    @property
    def app_secrets_secret(self) -> str:
        return self.secret("app")

    def key_pair_secret(self, key_pair_name: str) -> str:
        return self.secret(f"keypair/{key_pair_name}")

    @property
    def secrets(self) -> list[str]:
        """Every secret a deployment may have created (every RDS generation's): teardown finds them by
        name, because ListSecrets may omit what changed in the last five minutes."""
        generations = [self.analytics_db_secret_of(g) for g in range(1, self.rds_generation + 1)]
        key_pairs = [self.key_pair_secret(name) for name in (self.analytics_key_pair, self.director_key_pair, self.jenkins_deploy_key_pair)]
        return [
            self.es_user_key_secret,
            self.reports_user_key_secret,
            *generations,
            self.edxapp_ro_db_secret,
            self.app_secrets_secret,
            *key_pairs,
        ]

    # EMR (clusters are created per task by the pipeline's playbook under this name)
    @property
    def emr_cluster(self) -> str:
        return f"{self.id}-analytics"

    # Secure repo and executions
    @property
    def secure_repo_prefix(self) -> str:
        return f"{self.id}/"

    def execution_name(self, input_digest: str) -> str:
        return f"{self.id}-{input_digest[:16]}"
