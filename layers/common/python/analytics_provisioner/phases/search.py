"""Search: the Elasticsearch/OpenSearch domain the pipeline writes and the Analytics API reads.

``run`` (ensure) creates the domain as the runbook configures it, or adopts ours, and returns the
poll state; ``status`` is one round of the state machine's Wait -> status -> Choice loop, which
watches the domain for up to ``options.poll_watch_seconds`` (``polling.watch``). The
runbook's domain: one data node, no dedicated master, no zone awareness, EBS General Purpose 10 GB,
``rest.action.multi.allow_explicit_index: true``, full access for the ES IAM user. We add encryption
at rest, node-to-node encryption and HTTPS-only wherever the engine version and instance type allow.
"""

import json

from ..aws import search as es
from ..aws import tags as tagging
from ..aws.errors import aws_call
from ..deployment import ResolvedDeployment
from ..errors import IamPropagationError, ResourceStateError
from ..plan import Change, create, keep
from ..state import IdentityOutput, Poll, SearchOutput, SearchSecurity
from . import polling

IAM_RETRY_SECONDS = 2
IAM_WAIT_SECONDS = 30
EBS_VOLUME_TYPE = "gp2"  # the runbook's "General Purpose (SSD)", accepted by every version and instance type
TIMEOUT_REMEDY = (
    "see its status in the OpenSearch Service console, then re-run the execution to keep waiting "
    "(the re-run adopts the domain), or raise options.search_timeout_minutes"
)


def run(deployment: ResolvedDeployment, identity: IdentityOutput) -> SearchOutput:
    with aws_call(f"ensure search domain {deployment.names.es_domain}"):
        domain, created = ensure_domain(deployment, identity.es_user_arn)
    ready = es.domain_ready(domain)
    options = deployment.options
    wait = polling.first_wait(created, ready, options.search_first_check_seconds, options.poll_interval_seconds)
    return output(domain, ready, Poll(**polling.start(wait)))


def status(deployment: ResolvedDeployment, search: SearchOutput) -> SearchOutput:
    """One round of the poll loop; ``search``: the previous round's output."""
    name, options = search.domain_name, deployment.options

    def read() -> tuple[dict, bool]:
        with aws_call(f"check search domain {name}"):
            domain = es.domain(name, deployment.region)
        if domain is None or domain.get("Deleted"):
            raise ResourceStateError(f"search domain {name} was deleted while we waited for it; re-run the execution to create it again")
        return domain, es.domain_ready(domain)

    domain, ready, poll = polling.check(
        read,
        search.poll.to_state(),
        options.poll_interval_seconds,
        options.poll_watch_seconds,
        options.search_timeout_minutes,
        f"Elasticsearch domain {name}",
        TIMEOUT_REMEDY,
    )
    return output(domain, ready, Poll(**poll))


def ensure_domain(deployment: ResolvedDeployment, es_user_arn: str) -> tuple[dict, bool]:
    """(domain status, created now?)."""
    name, region, deployment_id = deployment.names.es_domain, deployment.region, deployment.deployment_id
    domain, created = polling.found_or_created(
        lambda: es.domain(name, region),
        lambda: when_iam_propagated(
            lambda: es.create_domain(domain_config(deployment, es_user_arn), tagging.ours(deployment_id), region),
            f"create search domain {name}",
        ),
        f"search domain {name!r}",
    )
    if created:
        return domain, True
    tagging.require_ours(es.tags_of(domain["ARN"], region), deployment_id, f"search domain {name!r}")
    if domain.get("Deleted"):
        raise ResourceStateError(f"search domain {name} is being deleted; re-run the execution once it is gone")
    return domain, False


def when_iam_propagated(create, doing: str):
    """``create()``, tried again every IAM_RETRY_SECONDS for up to IAM_WAIT_SECONDS while OpenSearch refuses
    the access policy because IAM has not propagated the search user Identity created moments before. The
    domain is the slowest resource, so its create call is on the critical path: a short fixed step sees
    propagation within seconds, where the state machine's jittered Retry (which takes over after this)
    overshoots by several, and costs no state transitions."""
    waited = 0
    while True:
        try:
            with aws_call(doing):
                return create()
        except IamPropagationError:
            if waited + IAM_RETRY_SECONDS > IAM_WAIT_SECONDS:
                raise
            polling.sleep(IAM_RETRY_SECONDS)
            waited += IAM_RETRY_SECONDS


def domain_config(deployment: ResolvedDeployment, es_user_arn: str) -> dict:
    options, name = deployment.options, deployment.names.es_domain
    version, instance_type = options.es_engine_version, options.es_instance_type
    allowed = es.encryption_support(version, options.es_encryption_at_rest)
    return {
        "DomainName": name,
        "EngineVersion": version,
        "ClusterConfig": {
            "InstanceType": instance_type,
            "InstanceCount": 1,
            "DedicatedMasterEnabled": False,
            "ZoneAwarenessEnabled": False,
        },
        "EBSOptions": {"EBSEnabled": True, "VolumeType": EBS_VOLUME_TYPE, "VolumeSize": options.es_volume_gb},
        "AdvancedOptions": {"rest.action.multi.allow_explicit_index": "true"},
        "AccessPolicies": json.dumps(access_policy(es.domain_arn(name, deployment.region), es_user_arn)),
        "EncryptionAtRestOptions": {"Enabled": allowed["encryption_at_rest"]},
        "NodeToNodeEncryptionOptions": {"Enabled": allowed["node_to_node_encryption"]},
        "DomainEndpointOptions": {"EnforceHTTPS": allowed["enforce_https"], "TLSSecurityPolicy": es.TLS_POLICY},
    }


def access_policy(domain_arn: str, es_user_arn: str) -> dict:
    """The runbook's "grant full access to the analytics_elasticsearch user", on this domain only."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": es_user_arn}, "Action": "es:*", "Resource": f"{domain_arn}/*"}],
    }


def output(domain: dict, ready: bool, poll: Poll) -> SearchOutput:
    return SearchOutput(
        domain_name=domain["DomainName"],
        domain_arn=domain["ARN"],
        engine_version=domain["EngineVersion"],
        instance_type=domain["ClusterConfig"]["InstanceType"],
        endpoint=es.endpoint(domain) if ready else None,
        ready=ready,
        poll=poll,
        security=SearchSecurity(
            encryption_at_rest=domain.get("EncryptionAtRestOptions", {}).get("Enabled", False),
            node_to_node_encryption=domain.get("NodeToNodeEncryptionOptions", {}).get("Enabled", False),
            enforce_https=domain.get("DomainEndpointOptions", {}).get("EnforceHTTPS", False),
        ),
    )


def plan(deployment: ResolvedDeployment) -> list[Change]:
    """What run() would do, found with reads only."""
    name, options = deployment.names.es_domain, deployment.options
    domain = es.domain(name, deployment.region)
    if domain is None:
        return [
            create(
                "search domain",
                name,
                f"{options.es_engine_version}, one {options.es_instance_type} node, {options.es_volume_gb} GB; "
                "ready some 10-15 minutes later",
            )
        ]
    if domain.get("Deleted"):
        return [keep("search domain", name, "being deleted: Search stops until it is gone, then creates it again")]
    return [keep("search domain", name, f"exists and is ours ({domain['EngineVersion']}): adopted as it is")]
