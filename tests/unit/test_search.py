"""Search: the domain as the runbook configures it, secured as far as its version allows, and the
poll bookkeeping of the Wait -> status -> Choice loop (first wait, interval, ceiling)."""

import json

import pytest

from analytics_provisioner.aws import search as es
from analytics_provisioner.errors import AwsCallError, IamPropagationError, OwnershipError, ResourceStateError, ResourceTimeoutError
from analytics_provisioner.handler import invoke
from analytics_provisioner.local.iam_propagation import PROPAGATION_SECONDS
from analytics_provisioner.local.seed import seed
from analytics_provisioner.naming import TAG_DEPLOYMENT, TAG_MANAGED_BY
from analytics_provisioner.phases import search, validate
from analytics_provisioner.state import IdentityOutput
from samples import sample
from testkit import ApiCalls, not_ready_times, store_edxapp_admin_secret

REGION = "us-east-1"
DOMAIN = "acme-demo-analytics-es"


def state_for(emulator, doc: dict, **options) -> dict:
    """The state as Search receives it: validated deployment (versions resolved) plus the ES user."""
    doc["options"] = {**doc.get("options", {}), **options}
    seed(emulator, doc)
    store_edxapp_admin_secret(emulator, doc)
    validated = invoke(validate.run, doc)
    user_arn = emulator.client("iam").create_user(UserName="acme-demo-analytics-elasticsearch")["User"]["Arn"]
    emulator.clock.wait(PROPAGATION_SECONDS)  # Identity ran a while ago: IAM has propagated the user
    return {**validated, "identity": sample(IdentityOutput, es_user_arn=user_arn).to_state()}


def check(state: dict, previous: dict) -> dict:
    return invoke(search.status, {"action": "status", "deployment": state["deployment"], "search": previous})


def test_domain_is_created_as_the_runbook_configures_it(aws, minimal_input):
    state = state_for(aws, minimal_input, es_engine_version="OpenSearch_2.17", es_instance_type="t3.small.search")
    calls = ApiCalls("opensearch")
    result = invoke(search.run, state)

    (sent,) = calls.named("CreateDomain")
    assert sent["DomainName"] == DOMAIN and sent["EngineVersion"] == "OpenSearch_2.17"
    assert sent["ClusterConfig"] == {
        "InstanceType": "t3.small.search",
        "InstanceCount": 1,
        "DedicatedMasterEnabled": False,
        "ZoneAwarenessEnabled": False,
    }
    assert sent["EBSOptions"] == {"EBSEnabled": True, "VolumeType": "gp2", "VolumeSize": 10}
    assert sent["AdvancedOptions"] == {"rest.action.multi.allow_explicit_index": "true"}
    assert sent["EncryptionAtRestOptions"] == {"Enabled": True}
    assert sent["NodeToNodeEncryptionOptions"] == {"Enabled": True}
    assert sent["DomainEndpointOptions"] == {"EnforceHTTPS": True, "TLSSecurityPolicy": "Policy-Min-TLS-1-2-2019-07"}
    assert "VPCOptions" not in sent and "AdvancedSecurityOptions" not in sent

    domain = aws.client("opensearch").describe_domain(DomainName=DOMAIN)["DomainStatus"]
    policy = json.loads(domain["AccessPolicies"])
    assert policy["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"AWS": state["identity"]["es_user_arn"]},
            "Action": "es:*",
            "Resource": f"arn:aws:es:us-east-1:123456789012:domain/{DOMAIN}/*",
        }
    ]
    tags = {t["Key"]: t["Value"] for t in aws.client("opensearch").list_tags(ARN=domain["ARN"])["TagList"]}
    assert tags[TAG_DEPLOYMENT] == "acme-demo" and tags[TAG_MANAGED_BY] == "analytics-provisioner"
    assert result["security"] == {"encryption_at_rest": True, "node_to_node_encryption": True, "enforce_https": True}
    assert result["domain_arn"] == domain["ARN"] and result["instance_type"] == "t3.small.search"


def test_a_user_iam_has_not_propagated_yet_is_waited_out_in_short_steps(aws, minimal_input):
    state = state_for(aws, minimal_input)
    fresh = aws.client("iam").create_user(UserName="acme-demo-fresh")["User"]["Arn"]
    state["identity"]["es_user_arn"] = fresh
    before = aws.clock.now()
    assert invoke(search.run, state)["domain_name"] == DOMAIN  # before IAM propagation was retried, this failed the deployment
    assert fresh in aws.iam_propagation.refused
    assert PROPAGATION_SECONDS <= aws.clock.now() - before <= PROPAGATION_SECONDS + search.IAM_RETRY_SECONDS


def test_a_user_iam_has_not_propagated_after_the_wait_is_left_to_the_state_machines_retry(aws, minimal_input):
    state = state_for(aws, minimal_input)
    aws.iam_propagation.seconds = 3600
    state["identity"]["es_user_arn"] = aws.client("iam").create_user(UserName="acme-demo-fresh")["User"]["Arn"]
    before = aws.clock.now()
    with pytest.raises(IamPropagationError, match="InvalidTypeException: Error setting policy"):
        invoke(search.run, state)
    assert search.IAM_WAIT_SECONDS <= aws.clock.now() - before < search.IAM_WAIT_SECONDS + 5


def test_default_versions_come_from_validate_and_limit_encryption(aws, minimal_input):
    state = state_for(aws, minimal_input)
    calls = ApiCalls("opensearch")
    result = invoke(search.run, state)
    (sent,) = calls.named("CreateDomain")
    # the runbook's 1.5 is gone: Validate resolved the nearest offered version and the runbook's t2.small
    assert sent["EngineVersion"] == state["deployment"]["options"]["es_engine_version"] == "Elasticsearch_5.6"
    assert sent["ClusterConfig"]["InstanceType"] == "t2.small.search"
    assert sent["EncryptionAtRestOptions"] == {"Enabled": False}  # T2 types cannot encrypt
    assert sent["NodeToNodeEncryptionOptions"] == {"Enabled": False}  # needs 6.0+
    assert sent["DomainEndpointOptions"]["EnforceHTTPS"] is True
    assert result["engine_version"] == "Elasticsearch_5.6"
    assert result["security"] == {"encryption_at_rest": False, "node_to_node_encryption": False, "enforce_https": True}


@pytest.mark.parametrize(
    "version, type_encrypts, at_rest, node_to_node",
    [
        ("Elasticsearch_1.5", True, False, False),
        ("Elasticsearch_5.1", True, True, False),
        ("Elasticsearch_5.6", False, False, False),
        ("Elasticsearch_6.0", True, True, True),
        ("Elasticsearch_7.10", False, False, False),
        ("OpenSearch_1.3", True, True, True),
    ],
)
def test_encryption_follows_what_version_and_type_support(version, type_encrypts, at_rest, node_to_node):
    assert es.encryption_support(version, type_encrypts) == {
        "encryption_at_rest": at_rest,
        "node_to_node_encryption": node_to_node,
        "enforce_https": True,
    }


def test_encryption_follows_the_type_details_validate_read_not_the_type_name(aws, minimal_input):
    """Validate resolves options.es_encryption_at_rest from ListInstanceTypeDetails' EncryptionEnabled."""
    state = state_for(aws, minimal_input, es_engine_version="Elasticsearch_7.10", es_instance_type="t2.small.search")
    assert state["deployment"]["options"]["es_encryption_at_rest"] is False
    calls = ApiCalls("opensearch")
    invoke(search.run, state)
    (sent,) = calls.named("CreateDomain")
    assert sent["EncryptionAtRestOptions"] == {"Enabled": False} and sent["NodeToNodeEncryptionOptions"] == {"Enabled": False}


def test_a_domain_asking_what_its_type_cannot_is_refused_by_opensearch(aws, minimal_input):
    """The rule local/search_limits.py applies: the domain Search asked for before Validate knew the limits."""
    state = state_for(aws, minimal_input, es_engine_version="Elasticsearch_7.10", es_instance_type="t2.small.search")
    state["deployment"]["options"].update(es_encryption_at_rest=True)
    with pytest.raises(AwsCallError, match="ValidationException.*Encryption at rest is not supported with t2.small.search"):
        invoke(search.run, state)
    state["deployment"]["options"].update(es_encryption_at_rest=False, es_volume_gb=100)
    with pytest.raises(AwsCallError, match="Volume size must be between 10 and 35 for t2.small.search"):
        invoke(search.run, state)


def test_new_domain_waits_the_first_check_then_reports_ready(aws, minimal_input):
    state = state_for(aws, minimal_input, search_first_check_seconds=600, poll_interval_seconds=60, poll_watch_seconds=0)
    created = invoke(search.run, state)
    assert created["poll"] == {"checks": 0, "waited_seconds": 0, "next_wait_seconds": 600}
    checked = check(state, created)
    assert checked["ready"] is True
    assert checked["endpoint"] == f"{DOMAIN}.us-east-1.es.amazonaws.com"
    assert checked["poll"] == {"checks": 1, "waited_seconds": 600, "next_wait_seconds": 60}


def test_poll_loop_keeps_waiting_while_not_ready(aws, minimal_input, monkeypatch):
    state = state_for(aws, minimal_input, search_first_check_seconds=600, poll_interval_seconds=60, poll_watch_seconds=0)
    current = invoke(search.run, state)
    not_ready_times(monkeypatch, es, "domain_ready", 3)
    seen = []
    for _ in range(4):
        current = check(state, current)
        seen.append((current["ready"], current["endpoint"], current["poll"]["checks"], current["poll"]["waited_seconds"]))
    assert seen == [
        (False, None, 1, 600),
        (False, None, 2, 660),
        (False, None, 3, 720),
        (True, f"{DOMAIN}.us-east-1.es.amazonaws.com", 4, 780),
    ]


def test_a_check_watches_the_domain_and_sees_it_ready_within_an_interval(aws, minimal_input, monkeypatch):
    """The default schedule: one check reads every poll_interval_seconds for up to poll_watch_seconds; local mode
    passes the pauses on its clock as AWS would."""
    state = state_for(aws, minimal_input, search_first_check_seconds=420, poll_interval_seconds=15, poll_watch_seconds=300)
    current = invoke(search.run, state)
    not_ready_times(monkeypatch, es, "domain_ready", 7)
    before = aws.clock.now()
    current = check(state, current)
    assert current["ready"] is True and current["endpoint"] == f"{DOMAIN}.us-east-1.es.amazonaws.com"
    assert current["poll"] == {"checks": 1, "waited_seconds": 420 + 7 * 15, "next_wait_seconds": 15}
    assert aws.clock.now() - before >= 7 * 15


def test_a_watch_that_ends_not_ready_hands_back_to_the_wait(aws, minimal_input, monkeypatch):
    state = state_for(aws, minimal_input, search_first_check_seconds=420, poll_interval_seconds=15, poll_watch_seconds=300)
    current = invoke(search.run, state)
    not_ready_times(monkeypatch, es, "domain_ready", 100)
    current = check(state, current)
    assert current["ready"] is False and current["poll"] == {"checks": 1, "waited_seconds": 420 + 300, "next_wait_seconds": 15}


def test_the_watch_stops_at_the_ceiling(aws, minimal_input, monkeypatch):
    state = state_for(
        aws, minimal_input, search_first_check_seconds=420, poll_interval_seconds=15, poll_watch_seconds=300, search_timeout_minutes=10
    )
    current = invoke(search.run, state)
    not_ready_times(monkeypatch, es, "domain_ready", 100)
    before = aws.clock.now()
    with pytest.raises(ResourceTimeoutError, match=f"Elasticsearch domain {DOMAIN} not active after 10 minutes"):
        check(state, current)  # watched 180 s of its 300: 420 + 180 = the ceiling
    assert 180 <= aws.clock.now() - before < 195


def test_ceiling_ends_the_loop_with_a_clear_cause(aws, minimal_input, monkeypatch):
    state = state_for(
        aws, minimal_input, search_first_check_seconds=600, poll_interval_seconds=60, poll_watch_seconds=0, search_timeout_minutes=12
    )
    current = invoke(search.run, state)
    not_ready_times(monkeypatch, es, "domain_ready", 100)
    current = check(state, current)  # waited 600 s
    current = check(state, current)  # waited 660 s
    with pytest.raises(ResourceTimeoutError, match=f"Elasticsearch domain {DOMAIN} not active after 12 minutes; .*search_timeout_minutes"):
        check(state, current)  # waited 720 s = the ceiling


def test_ready_at_the_ceiling_is_ready(aws, minimal_input, monkeypatch):
    state = state_for(
        aws, minimal_input, search_first_check_seconds=600, poll_interval_seconds=60, poll_watch_seconds=0, search_timeout_minutes=11
    )
    current = invoke(search.run, state)
    not_ready_times(monkeypatch, es, "domain_ready", 1)
    current = check(state, current)
    assert check(state, current)["ready"] is True  # waited 660 s = the ceiling, but ready


def test_rerun_adopts_the_domain_without_waiting(aws, minimal_input):
    state = state_for(aws, minimal_input)
    first = invoke(search.run, state)
    calls = ApiCalls("opensearch")
    second = invoke(search.run, state)
    assert calls.named("CreateDomain") == [] and calls.named("UpdateDomainConfig") == []
    assert second["domain_arn"] == first["domain_arn"]
    assert second["ready"] is True and second["poll"]["next_wait_seconds"] == 0


def test_adopted_domain_still_creating_waits_the_poll_interval(aws, minimal_input, monkeypatch):
    state = state_for(aws, minimal_input, poll_interval_seconds=45)
    invoke(search.run, state)
    not_ready_times(monkeypatch, es, "domain_ready", 1)
    again = invoke(search.run, state)
    assert again["ready"] is False and again["endpoint"] is None
    assert again["poll"]["next_wait_seconds"] == 45


@pytest.mark.parametrize("tag_list", [[], [{"Key": TAG_DEPLOYMENT, "Value": "acme-other"}]], ids=["untagged", "other-deployment"])
def test_domain_name_taken_by_someone_else_is_refused(aws, minimal_input, tag_list):
    state = state_for(aws, minimal_input)
    aws.client("opensearch").create_domain(DomainName=DOMAIN, EngineVersion="OpenSearch_2.17", TagList=tag_list)
    with pytest.raises(
        OwnershipError, match=rf"search domain '{DOMAIN}' exists and is not ours \(.*expected the tag {TAG_DEPLOYMENT}=acme-demo\)"
    ):
        invoke(search.run, state)


def test_domain_deleted_while_waiting_stops_the_loop(aws, minimal_input):
    state = state_for(aws, minimal_input)
    created = invoke(search.run, state)
    aws.client("opensearch").delete_domain(DomainName=DOMAIN)
    with pytest.raises(ResourceStateError, match=f"search domain {DOMAIN} was deleted while we waited"):
        check(state, created)
