"""Every name comes from the deployment id and fits the service's rules."""

import re

import pytest

from analytics_provisioner.naming import (
    ANALYTICS_DB_USER,
    ANALYTICS_RDS_MASTER_USER,
    DEPLOYMENT_ID_PATTERN,
    RUNBOOK_EDXAPP_RO_USER,
    Names,
    is_valid_bucket_name,
    migration_user_refusal,
    name_rule_breaks,
    working_id,
)

LONGEST_ID = "a" * 31


def test_names_carry_the_deployment_id():
    names = Names("acme-prod")
    for name in (
        names.analytics_role,
        names.es_user,
        names.es_domain,
        names.analytics_rds,
        names.emr_bucket,
        names.analytics_security_group,
        names.analytics_key_pair,
        names.emr_provisioning_policy,
    ):
        assert name.startswith("acme-prod"), name


def test_two_deployments_never_collide():
    first, second = Names("acme-prod"), Names("acme-stage")
    attributes = [a for a in dir(first) if not a.startswith("_") and isinstance(getattr(first, a), str) and a != "id"]
    shared = {"reports_inline_policy", "iam_path", "rds_generation"}
    for attribute in set(attributes) - shared:
        assert getattr(first, attribute) != getattr(second, attribute), attribute


@pytest.mark.parametrize("deployment_id", ["abc", "acme-prod", LONGEST_ID, "a1234567890123456789012345678-z"])
def test_names_fit_aws_limits(deployment_id):
    names = Names(deployment_id)
    assert re.match(r"^[a-z][a-z0-9-]{2,27}$", names.es_domain), names.es_domain
    assert len(names.analytics_role) <= 64 and len(names.es_user) <= 64 and len(names.reports_user) <= 64
    assert len(names.analytics_rds) <= 63 and not names.analytics_rds.endswith("-")
    for bucket in (names.emr_bucket, names.emr_logs_bucket, names.edxanalytics_bucket, names.hadoop_bucket, names.reports_bucket):
        assert is_valid_bucket_name(bucket), bucket
    assert re.fullmatch(r"[a-z0-9-]{1,32}", names.edxapp_ro_user), names.edxapp_ro_user  # MySQL 5.7/8: 32 characters


def test_read_only_users_of_long_ids_stay_apart():
    assert Names("acme-prod").edxapp_ro_user == "acme-prod-edxapp-ro"
    assert Names("a" * 30 + "b").edxapp_ro_user != Names("a" * 30 + "c").edxapp_ro_user != RUNBOOK_EDXAPP_RO_USER


@pytest.mark.parametrize("user", [ANALYTICS_RDS_MASTER_USER, ANALYTICS_DB_USER, "rdsadmin", "mysql.sys"])
def test_the_migration_user_cannot_take_over_the_analytics_servers_own_accounts(user):
    refusal = migration_user_refusal(user, "acme/edxapp/db-migrate")
    assert refusal.startswith("edxapp.migration_secret_id: the username in secret 'acme/edxapp/db-migrate'")
    assert '"edxapp001"' in refusal
    assert migration_user_refusal("edxapp001", "acme/edxapp/db-migrate") is None


def test_shortened_names_stay_unique():
    assert Names("a" * 30 + "b").es_domain != Names("a" * 30 + "c").es_domain


def test_rds_generation_gives_a_fresh_name():
    assert Names("acme", 1).analytics_rds == "acme-analytics"
    assert Names("acme", 2).analytics_rds == "acme-analytics-g2"
    assert Names("acme", 1).analytics_db_secret != Names("acme", 2).analytics_db_secret


@pytest.mark.parametrize(
    "bucket, valid",
    [("acme-edxanalytics", True), ("Acme", False), ("a..b", False), ("192.168.1.1", False), ("xn--abc", False), ("ab", False)],
)
def test_bucket_rules(bucket, valid):
    assert is_valid_bucket_name(bucket) is valid


@pytest.mark.parametrize("first, second", [("acme-prod", "acme-stage"), ("a-b1", "ab-1"), ("a--b", "a-b")])
def test_grades_statement_ids_are_per_deployment_and_what_policies_allow(first, second):
    sids = Names(first).grades_policy_sid, Names(second).grades_policy_sid
    assert sids[0] != sids[1]
    for sid in sids:
        assert re.fullmatch(r"[A-Za-z0-9]+", sid), sid  # IAM policy grammar: Sid is alphanumeric
        assert sid.startswith("AnalyticsProvisionerGradesDownload")


@pytest.mark.parametrize(
    "deployment_id, broken",
    [
        ("sg-acme", "the security group name 'sg-acme-analytics' starts with 'sg-', which EC2 refuses"),
        ("acme--prod", "the RDS identifier 'acme--prod-analytics' contains '--' or ends with '-', which RDS refuses"),
    ],
)
def test_ids_whose_names_aws_refuses_are_named_with_an_id_that_works(deployment_id, broken):
    assert name_rule_breaks(deployment_id) == [broken]
    working = working_id(deployment_id)
    assert re.fullmatch(DEPLOYMENT_ID_PATTERN, working) and name_rule_breaks(working) == []


@pytest.mark.parametrize("deployment_id, working", [("sg-acme", "acme-sg"), ("sg-1a", "sg1a"), ("a--b---c", "a-b-c"), ("sg--x", "x-sg")])
def test_the_suggested_id_stays_close_to_the_refused_one(deployment_id, working):
    assert working_id(deployment_id) == working


def test_ids_the_pattern_takes_otherwise_make_names_aws_accepts():
    for deployment_id in ("acme-prod", "sgx", "s-g", "acme-sg-1", LONGEST_ID):
        assert name_rule_breaks(deployment_id) == [], deployment_id


def test_the_analytics_rds_of_every_generation_is_known_by_name_and_nothing_else():
    names = Names("acme-prod", rds_generation=3)
    assert all(names.is_analytics_rds(Names("acme-prod", g).analytics_rds) for g in (1, 2, 3, 42))
    for other in (
        "acme-prod-analytics-g1",
        "acme-prod-analytics-restored",
        "acme-prod-analytics-g2x",
        "acme-prod-x-analytics",
        "acme-analytics",
        "acme-prod-analytics-final-20261201",
    ):
        assert not names.is_analytics_rds(other), other
