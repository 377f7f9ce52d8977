"""The execution-input contract: what is accepted, what is refused, and how the refusal reads."""

import copy

import pytest

from analytics_provisioner.deployment import Deployment, validation_errors
from analytics_provisioner.errors import InputError
from testkit import load_event


@pytest.mark.parametrize("name", ["input-minimal.json", "input-full.json", "input-reports-off.json"])
def test_every_sample_input_passes_the_schema(name):
    assert validation_errors(load_event(name)) == []


def test_defaults_follow_the_runbook(minimal_input):
    deployment = Deployment.from_input(minimal_input, "eu-west-1")
    options = deployment.options
    assert (options.analytics_instance_type, options.analytics_volume_gb, options.analytics_instance_count) == ("t2.medium", 50, 1)
    assert (options.director_instance_type, options.director_volume_gb) == ("t2.micro", 8)
    assert options.es_volume_gb == 10
    assert deployment.features.reports is False
    assert deployment.edxapp.scheme == "https"
    assert deployment.edxapp.tracking_logs_bucket == "acme-demo-tracking-logs"
    assert deployment.region == "us-east-1"  # the input's region wins over the stack's


def test_region_defaults_to_the_stack_region(minimal_input):
    del minimal_input["region"]
    assert Deployment.from_input(minimal_input, "eu-west-1").region == "eu-west-1"


def test_state_round_trip(full_input):
    deployment = Deployment.from_input(full_input, "us-east-1")
    assert Deployment.from_state(deployment.to_state()) == deployment


def _errors_for(doc, mutate):
    doc = copy.deepcopy(doc)
    mutate(doc)
    return validation_errors(doc)


REFUSALS = [
    ("missing deployment_id", lambda d: d.pop("deployment_id"), "deployment_id: is required"),
    ("upper-case id", lambda d: d.update(deployment_id="Acme"), "deployment_id: 'Acme' is not valid; expected the runbook's client name"),
    ("id too long", lambda d: d.update(deployment_id="a" * 32), "deployment_id: "),
    ("id ends with hyphen", lambda d: d.update(deployment_id="acme-"), "deployment_id: 'acme-' is not valid"),
    ("missing ssh cidrs", lambda d: d["network"].pop("director_ssh_cidrs"), "network.director_ssh_cidrs: is required"),
    ("empty ssh cidrs", lambda d: d["network"].update(director_ssh_cidrs=[]), "network.director_ssh_cidrs: [] should be non-empty"),
    (
        "bad cidr",
        lambda d: d["network"].update(director_ssh_cidrs=["10.0.0.1/33"]),
        "network.director_ssh_cidrs.0: '10.0.0.1/33' is not a valid CIDR block",
    ),
    (
        "host bits set",
        lambda d: d["network"].update(director_ssh_cidrs=["10.0.0.1/24"]),
        "network.director_ssh_cidrs.0: '10.0.0.1/24' is not a valid CIDR block",
    ),
    ("bad vpc id", lambda d: d["network"].update(vpc_id="vpc-xyz"), "network.vpc_id: 'vpc-xyz' is not valid; expected a VPC id"),
    ("misspelt field", lambda d: d["edxapp"].update(lms_hots="x"), "edxapp.lms_hots: is not a known field"),
    (
        "scheme in host",
        lambda d: d["edxapp"].update(lms_host="https://lms.acme.org"),
        "edxapp.lms_host: 'https://lms.acme.org' is not valid; expected the LMS host name without scheme",
    ),
    ("grades without user", lambda d: d["edxapp"].update(grades_bucket="acme-edxapp"), "edxapp.aws_user_arn: is required"),
    (
        "bad option type",
        lambda d: d.update(options={"analytics_volume_gb": "50"}),
        "options.analytics_volume_gb: '50' is not of type 'integer'",
    ),
    (
        "unknown release",
        lambda d: d.update(options={"openedx_release": "open-release/zebra.master"}),
        "options.openedx_release: 'open-release/zebra.master' is not one of",
    ),
    ("unknown option", lambda d: d.update(options={"es_version": "1.5"}), "options.es_version: is not a known field"),
    (
        "missing secret id",
        lambda d: d["edxapp"].pop("db_admin_secret_id"),
        "edxapp.db_admin_secret_id: is required; expected the name or ARN of a Secrets Manager secret",
    ),
    *[
        (
            f"secure repo {url}",
            lambda d, url=url: d.update(jenkins={"secure_repo_url": url}),
            f'jenkins.secure_repo_url: {url!r} is not valid; expected an SSH URL such as "git@github.com:acme/analytics-secure.git"',
        )
        for url in (
            "https://github.com/acme/secure.git",
            "git@github.com/acme/secure.git",
            "ssh://git@github.com:acme/secure.git",
            "git@github.com:acme/secure.git'",
        )
    ],
    ("branch without secure repo", lambda d: d.update(jenkins={"secure_repo_branch": "main"}), "jenkins.secure_repo_url: is required"),
    (
        "secure repo branch option",
        lambda d: d.update(jenkins={"secure_repo_url": "git@github.com:a/b.git", "secure_repo_branch": "--upload-pack=x"}),
        "jenkins.secure_repo_branch: '--upload-pack=x' is not valid",
    ),
]


@pytest.mark.parametrize(
    "url",
    [
        "git@github.com:acme/analytics-secure.git",
        "ssh://git@github.com/acme/analytics-secure.git",
        "ssh://git@gitlab.acme.org:2222/ops/analytics-secure.git",
    ],
)
def test_secure_repo_ssh_urls_are_accepted_and_the_branch_defaults_to_main(minimal_input, url):
    minimal_input["jenkins"] = {"secure_repo_url": url}
    jenkins = Deployment.from_input(minimal_input, "us-east-1").jenkins
    assert (jenkins.secure_repo_url, jenkins.secure_repo_branch) == (url, "main")
    assert Deployment.from_input(load_event("input-minimal.json"), "us-east-1").jenkins.secure_repo_url is None


@pytest.mark.parametrize("label, mutate, expected", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusals_name_the_field_and_the_fix(minimal_input, label, mutate, expected):
    errors = _errors_for(minimal_input, mutate)
    assert any(expected in message for message in errors), errors


def test_every_problem_is_reported_at_once(minimal_input):
    def break_twice(doc):
        doc.pop("deployment_id")
        doc["edxapp"]["contact_email"] = "nobody"

    errors = _errors_for(minimal_input, break_twice)
    assert len(errors) == 2
    with pytest.raises(InputError, match="deployment_id: is required.*edxapp.contact_email"):
        Deployment.from_input(_mutated(minimal_input, break_twice), "us-east-1")


def _mutated(doc, mutate):
    doc = copy.deepcopy(doc)
    mutate(doc)
    return doc


def test_not_an_object_is_refused():
    assert validation_errors([]) == ["(document): [] is not of type 'object'"]


def test_published_schema_matches_the_library():
    from testkit import REPO

    library = REPO / "layers/common/python/analytics_provisioner/execution-input.schema.json"
    assert (REPO / "schema/execution-input.schema.json").read_text() == library.read_text()
