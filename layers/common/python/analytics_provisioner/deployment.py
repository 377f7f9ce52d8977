"""The execution input: schema validation, defaults and the typed deployment model.

``Deployment.from_input(doc)`` is the only way in: it validates against the JSON Schema
(``execution-input.schema.json``, also published at ``schema/`` in the repo), applies the runbook's
defaults and returns frozen dataclasses. ``to_state()`` is what travels in the state machine.
"""

import dataclasses
import ipaddress
import json
from functools import lru_cache
from importlib import resources

from . import schemacheck
from .errors import QUOTE_LIMIT, InputError, quote
from .naming import Names, name_rule_breaks, working_id
from .precompiled import conforms
from .record import lacking

WORLD = "0.0.0.0/0"

# Releases: the Ubuntu LTS their ansible roles target.
UBUNTU_FOR_RELEASE = {
    "open-release/ironwood.master": "16.04",
    "open-release/juniper.master": "20.04",
    "open-release/koa.master": "20.04",
    "open-release/lilac.master": "20.04",
    "open-release/maple.master": "20.04",
    "open-release/nutmeg.master": "20.04",
}


@lru_cache(maxsize=1)
def schema() -> dict:
    text = resources.files(__package__).joinpath("execution-input.schema.json").read_text()
    return json.loads(text)


def _field_path(error) -> str:
    path = ".".join(str(part) for part in error.absolute_path)
    if error.validator == "required":
        missing = error.message.split("'")[1]
        path = f"{path}.{missing}" if path else missing
    if error.validator == "dependentRequired":
        missing = error.message.split("'")[1]
        path = f"{path}.{missing}" if path else missing
    if error.validator == "additionalProperties":
        known = error.schema.get("properties", {})
        extra = next((str(key) for key in error.instance if key not in known), "?")
        extra = extra if len(extra) <= QUOTE_LIMIT else quote(extra)  # an unknown key is input too: never echoed whole
        path = f"{path}.{extra}" if path else extra
    return path or "(document)"


def _hint(path: str) -> str:
    node = schema()
    for part in path.split("."):
        props = node.get("properties", {})
        if part in props:
            node = props[part]
        elif "items" in node and part.isdigit():
            node = node["items"]
        else:
            return ""
    return node.get("description", "")


def _describe(error) -> str:
    path = _field_path(error)
    if error.validator == "required" or error.validator == "dependentRequired":
        problem = "is required" + ("" if error.validator == "required" else f" ({error.message})")
    elif error.validator == "additionalProperties":
        problem = "is not a known field (check its spelling against the schema)"
    elif error.validator == "pattern":
        problem = f"{quote(error.instance)} is not valid"
    elif error.validator == "enum":
        problem = f"{quote(error.instance)} is not one of {error.validator_value}"
    else:
        problem = schemacheck.message(error)
    hint = _hint(path)
    return f"{path}: {problem}" + (f"; expected {hint}" if hint else "")


def validation_errors(doc) -> list[str]:
    """Every schema problem in ``doc``, one short message per problem, each naming the field.

    The precompiled check decides; jsonschema (with whole-value patterns, as the precompiled check
    reads them) only describes what it refused. At most ``schemacheck.MAX_PROBLEMS`` are listed."""
    from .precompiled import execution_input  # its compiled patterns: paid by the functions that validate only

    shape = schemacheck.shape_problem(doc)
    if shape:
        return [shape]
    if not conforms(execution_input.validate, doc):
        problems = [_describe(error) for error in schemacheck.errors(schema(), doc)]
        return schemacheck.listed(problems or ["(document): does not conform to schema/execution-input.schema.json"])
    return schemacheck.listed(_semantic_errors(doc))


def _semantic_errors(doc: dict) -> list[str]:
    messages = []
    network = doc["network"]
    for key in ("director_ssh_cidrs", "analytics_ssh_cidrs"):
        for index, cidr in enumerate(network.get(key, [])):
            try:
                ipaddress.IPv4Network(cidr, strict=True)
            except ValueError as exc:
                messages.append(f'network.{key}.{index}: {quote(cidr)} is not a valid CIDR block ({exc}); expected e.g. "203.0.113.7/32"')
    deployment_id = doc["deployment_id"]
    for rule_break in name_rule_breaks(deployment_id):
        messages.append(
            f"deployment_id: {quote(deployment_id)} makes names AWS refuses: {rule_break}; choose another id such as {working_id(deployment_id)!r}"
        )
    return messages


@dataclasses.dataclass(frozen=True)
class Network:
    director_ssh_cidrs: tuple[str, ...]
    analytics_ssh_cidrs: tuple[str, ...] = ()
    vpc_id: str | None = None
    subnet_id: str | None = None


@dataclasses.dataclass(frozen=True)
class Edxapp:
    lms_host: str
    cms_host: str
    contact_email: str
    db_instance_id: str
    db_admin_secret_id: str
    migration_secret_id: str
    tracking_logs_bucket: str
    scheme: str = "https"
    grades_bucket: str | None = None
    aws_user_arn: str | None = None

    @property
    def lms_url(self) -> str:
        return f"{self.scheme}://{self.lms_host}"

    @property
    def cms_url(self) -> str:
        return f"{self.scheme}://{self.cms_host}"

    @property
    def grades_download(self) -> tuple[str, str] | None:
        """(grades_bucket, aws_user_arn) when the input names the grades bucket (the schema then requires the user)."""
        return (self.grades_bucket, self.aws_user_arn) if self.grades_bucket and self.aws_user_arn else None


@dataclasses.dataclass(frozen=True)
class Features:
    reports: bool = False


@dataclasses.dataclass(frozen=True)
class Jenkins:
    """The scheduler's secure repo: the private git repository the seed job clones (none until given)."""

    secure_repo_url: str | None = None
    secure_repo_branch: str = "main"


@dataclasses.dataclass(frozen=True)
class Options:
    """Every size, version and timing. Defaults: the runbook's, unless AWS no longer accepts it."""

    openedx_release: str = "open-release/nutmeg.master"
    analytics_instance_type: str = "t2.medium"
    analytics_instance_count: int = 1
    analytics_volume_gb: int = 50
    director_instance_type: str = "t2.micro"
    director_volume_gb: int = 8
    ubuntu_release: str | None = None  # None: follows openedx_release
    ami_id: str | None = None
    architecture: str = "x86_64"
    es_engine_version: str | None = None  # None: Elasticsearch_1.5 if offered, else nearest
    es_instance_type: str | None = None  # None: t2.small if offered, else nearest small type
    es_volume_gb: int = 10
    es_encryption_at_rest: bool | None = None  # None: wherever the instance type can (Validate resolves it)
    rds_instance_class: str = "db.t3.small"
    rds_engine_version: str = "8.4"  # 8.0 left RDS standard support on 2026-07-31
    rds_engine_lifecycle_support: str = "open-source-rds-extended-support-disabled"  # never paid Extended Support unasked
    rds_allocated_storage_gb: int = 20
    rds_backup_retention_days: int = 7
    rds_generation: int = 1
    emr_release_label: str = "emr-4.7.2"
    separate_emr_logs_bucket: bool = False
    separate_hadoop_bucket: bool = False
    rotate_generated_passwords: bool = False
    edxapp_ro_user: str | None = None  # None: Names.edxapp_ro_user, the per-deployment name
    # Poll schedule (phases/polling.py), chosen by benchmarks/critical_path.py (docs/performance.md)
    poll_interval_seconds: int = 15
    poll_watch_seconds: int = 300
    search_first_check_seconds: int = 420
    database_first_check_seconds: int = 240
    search_timeout_minutes: float = 60
    database_timeout_minutes: float = 60
    pipeline_tasks_repo: str = "https://github.com/openedx/edx-analytics-pipeline.git"
    pipeline_tasks_branch: str | None = None  # None: the release's branch (render/releases.py)
    pipeline_config_repo: str = "https://github.com/openedx/edx-analytics-configuration.git"
    pipeline_config_branch: str | None = None  # None: the release's branch

    @property
    def effective_ubuntu_release(self) -> str:
        return self.ubuntu_release or UBUNTU_FOR_RELEASE[self.openedx_release]

    @property
    def release_name(self) -> str:
        """``open-release/nutmeg.master`` -> ``nutmeg``."""
        return self.openedx_release.split("/")[-1].split(".")[0]


@dataclasses.dataclass(frozen=True)
class Deployment:
    deployment_id: str
    region: str
    network: Network
    edxapp: Edxapp
    features: Features = Features()
    jenkins: Jenkins = Jenkins()
    options: Options = Options()

    @property
    def names(self) -> Names:
        return Names(self.deployment_id, self.options.rds_generation)

    @property
    def edxapp_ro_user(self) -> str:
        """The read-only MySQL user on the edxapp server: the input's name, else the per-deployment one."""
        return self.options.edxapp_ro_user or self.names.edxapp_ro_user

    @property
    def ssh_open_to_world(self) -> bool:
        return WORLD in self.network.director_ssh_cidrs or WORLD in self.network.analytics_ssh_cidrs

    @classmethod
    def from_input(cls, doc, default_region: str) -> "Deployment":
        """Validate and normalise an execution input; raises InputError listing every problem."""
        problems = validation_errors(doc)
        if problems:
            raise InputError("The execution input is invalid: " + " | ".join(problems))
        return cls._build(doc, doc.get("region") or default_region)

    @classmethod
    def from_state(cls, state: dict, where: str = "deployment") -> "Deployment":
        """Rebuild from ``to_state()`` output (already validated by the Validate phase)."""
        return cls._build(state, state["region"])

    @classmethod
    def _build(cls, doc: dict, region: str) -> "Deployment":
        network = dict(doc["network"])
        edxapp = dict(doc["edxapp"])
        edxapp.setdefault("tracking_logs_bucket", Names(doc["deployment_id"]).default_tracking_logs_bucket)
        network["director_ssh_cidrs"] = tuple(network["director_ssh_cidrs"])
        network["analytics_ssh_cidrs"] = tuple(network.get("analytics_ssh_cidrs", ()))
        return cls(
            deployment_id=doc["deployment_id"],
            region=region,
            network=Network(**network),
            edxapp=Edxapp(**edxapp),
            features=Features(**doc.get("features", {})),
            jenkins=Jenkins(**doc.get("jenkins", {})),
            options=Options(**doc.get("options", {})),
        )

    def with_network(self, vpc_id: str, subnet_id: str) -> "Deployment":
        return dataclasses.replace(self, network=dataclasses.replace(self.network, vpc_id=vpc_id, subnet_id=subnet_id))

    def to_state(self) -> dict:
        """The normalised document, with every default filled in; JSON-serialisable."""
        return json.loads(json.dumps(dataclasses.asdict(self)))


# The deployment after Validate: what it chose where the input left the choice to it --------------
@dataclasses.dataclass(frozen=True, kw_only=True)
class ResolvedNetwork(Network):
    vpc_id: str
    subnet_id: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class ResolvedOptions(Options):
    ubuntu_release: str
    ami_id: str
    es_engine_version: str
    es_instance_type: str
    es_encryption_at_rest: bool


RESOLVED = {
    "network": ("vpc_id", "subnet_id"),
    "options": ("ubuntu_release", "ami_id", "es_engine_version", "es_instance_type", "es_encryption_at_rest"),
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class ResolvedDeployment(Deployment):
    """What every phase after Validate receives: the VPC and subnet, the image, the search engine, instance
    type and encryption, and the exact MySQL version chosen (``options.rds_engine_version``), none left open."""

    network: ResolvedNetwork
    options: ResolvedOptions

    @classmethod
    def resolve(cls, deployment: Deployment, vpc_id: str, subnet_id: str, **options) -> "ResolvedDeployment":
        """``deployment`` with Validate's choices: the network's ids and the ``RESOLVED`` options (``options``)."""
        return cls(
            deployment_id=deployment.deployment_id,
            region=deployment.region,
            edxapp=deployment.edxapp,
            features=deployment.features,
            jenkins=deployment.jenkins,
            network=ResolvedNetwork(**{**dataclasses.asdict(deployment.network), "vpc_id": vpc_id, "subnet_id": subnet_id}),
            options=ResolvedOptions(**{**dataclasses.asdict(deployment.options), **options}),
        )

    @classmethod
    def from_state(cls, state: dict, where: str = "deployment") -> "ResolvedDeployment":
        """Rebuild from Validate's output; ResourceStateError naming what is unresolved (no Validate output)."""
        unresolved = [
            f"{where}.{part}.{key}" for part, keys in RESOLVED.items() for key in keys if (state.get(part) or {}).get(key) is None
        ]
        if unresolved:
            raise lacking(unresolved)
        deployment = Deployment.from_state(state)
        return cls.resolve(
            deployment,
            state["network"]["vpc_id"],
            state["network"]["subnet_id"],
            **{key: state["options"][key] for key in RESOLVED["options"]},
        )
