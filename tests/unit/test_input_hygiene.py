"""Input hygiene: every pattern matches the whole value, CIDR checks on both SSH lists, short quotes.

Python's ``$`` also matches before a final newline, so a pattern read by plain jsonschema accepted
``"lms.acme.org\\n"``. The test over every string field iterates the schemas themselves: a field
added later is covered, and one without a known valid value fails here until it gets one.
"""

import copy
import json
import re

import pytest

from analytics_provisioner import deployment, naming, schemacheck
from analytics_provisioner.deployment import Deployment, validation_errors
from analytics_provisioner.errors import InputError, quote
from analytics_provisioner.handler import invoke
from analytics_provisioner.phases import report, storage
from analytics_provisioner.phases.teardown import request
from testkit import REPO, load_event

BASE = load_event("input-full.json")
# Valid values of the string fields the full sample input leaves out.
VALID = {
    ("network", "vpc_id"): "vpc-0abc1234",
    ("network", "subnet_id"): "subnet-0abc1234",
    ("options", "ubuntu_release"): "20.04",
    ("options", "ami_id"): "ami-0abc1234",
    ("options", "architecture"): "arm64",
    ("options", "es_engine_version"): "Elasticsearch_7.10",
    ("options", "es_instance_type"): "t3.small.search",
    ("options", "emr_release_label"): "emr-5.36.2",
    ("options", "pipeline_tasks_repo"): "https://github.com/openedx/edx-analytics-pipeline.git",
    ("options", "pipeline_tasks_branch"): "open-release/nutmeg.master",
    ("options", "edxapp_ro_user"): "edxapp_ro",
    ("options", "pipeline_config_repo"): "git@github.com:openedx/edx-analytics-configuration.git",
    ("options", "pipeline_config_branch"): "master",
}


def string_fields(schema: dict, path: tuple = ()):
    """(path, is_list) of every field whose value is a string or a list of strings, from the schema itself."""
    for name, spec in schema.get("properties", {}).items():
        here = path + (name,)
        items = spec.get("items", {})
        if spec.get("type") == "string" or all(isinstance(value, str) for value in spec.get("enum", [None])):
            yield here, False
        elif spec.get("type") == "array" and items.get("type") == "string":
            yield here, True
        yield from string_fields(spec, here)


def patterns(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern":
                yield value
            else:
                yield from patterns(value)


SCHEMAS = {"execution input": deployment.schema(), "teardown input": request.schema()}
FIELDS = sorted(string_fields(deployment.schema()))


def _valid_value(path: tuple):
    node = BASE
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    value = node[0] if isinstance(node, list) else node
    if value is None:
        value = VALID.get(path)
    assert isinstance(value, str), f"no valid value known for {'.'.join(path)}: add one to VALID"
    return value


def _with(path: tuple, value, is_list: bool) -> dict:
    doc = copy.deepcopy(BASE)
    parent = doc
    for key in path[:-1]:
        parent = parent.setdefault(key, {})
    parent[path[-1]] = [value] if is_list else value
    return doc


def test_the_schemas_have_string_fields_to_check():
    assert len(FIELDS) >= 25 and (("edxapp", "lms_host"), False) in FIELDS and (("network", "director_ssh_cidrs"), True) in FIELDS
    assert not list(string_fields(request.schema())), "the teardown input gained a string field: check it like the execution input's"


@pytest.mark.parametrize("path, is_list", FIELDS, ids=[".".join(path) for path, _ in FIELDS])
def test_every_string_field_refuses_a_trailing_newline(path, is_list):
    field = ".".join(path)
    value = _valid_value(path)
    assert validation_errors(_with(path, value, is_list)) == [], f"{field}: the valid value {value!r} is refused"
    for hostile in (value + "\n", value + "\r\n", "\n" + value, value + "\n" + value):
        doc = _with(path, hostile, is_list)
        problems = validation_errors(doc)
        assert problems and all(problem.startswith(field) for problem in problems), (hostile, problems)
        with pytest.raises(InputError, match=re.escape(field)):
            Deployment.from_input(doc, "us-east-1")
        with pytest.raises(InputError, match=re.escape(f"deployment.{field}")):
            request.check({"deployment": doc}, "us-east-1")


@pytest.mark.parametrize("schema_name", SCHEMAS)
def test_every_pattern_is_anchored_at_both_ends_and_means_the_same_in_python_and_ecma(schema_name):
    for pattern in patterns(SCHEMAS[schema_name]):
        assert pattern.startswith("^") and pattern.endswith("$") and not pattern.endswith("\\$"), pattern
        assert len(re.findall(r"(?<!\\)\$", pattern)) == 1, f"{pattern}: '$' only at the end (the engines replace every '$' with \\Z)"
        # \w, \d and \b are Unicode-aware in Python and ASCII in ECMA-262: spell the characters out.
        assert not re.search(r"\\[wWdDbB]", pattern), pattern


def test_whole_value_patterns_read_dollar_as_the_end_of_the_value():
    assert schemacheck.whole_value("^[a-z]+$").search("acme")
    assert not schemacheck.whole_value("^[a-z]+$").search("acme\n")
    assert re.search("^[a-z]+$", "acme\n"), "Python's own '$' no longer matches before a final newline: simplify schemacheck"


@pytest.mark.parametrize(
    "name", ["acme-edxapp\n", "acme-edxapp\r\n", "xn--acme", "acme-s3alias", "acme-s3alias\n", "10.0.0.1", "a..b", "ab"]
)
def test_bucket_name_checks_match_the_whole_name(name):
    assert not naming.is_valid_bucket_name(name)
    with pytest.raises(Exception, match="breaks the S3 naming rules"):
        storage.check_bucket_names({"tracking_logs": name})


def test_good_bucket_names_pass():
    assert all(naming.is_valid_bucket_name(name) for name in ("acme-edxapp", "acme.tracking-logs", "a1b"))


def test_the_failure_report_key_takes_only_a_whole_deployment_id():
    assert report._report_key("acme-demo", "x") == "acme-demo/failure-report.json"
    assert report._report_key("acme-demo\n", "x") == "_rejected/x/failure-report.json"
    assert report._report_key(42, "x") == "_rejected/x/failure-report.json"


BAD_CIDRS = ["10.0.0.1/33", "999.1.1.1/8", "10.0.0.1/8", "203.0.113.7/32\n"]


@pytest.mark.parametrize("cidr", BAD_CIDRS)
@pytest.mark.parametrize("key", ["director_ssh_cidrs", "analytics_ssh_cidrs"])
def test_both_ssh_lists_get_the_cidr_check(minimal_input, key, cidr):
    minimal_input["network"][key] = [cidr]
    problems = validation_errors(minimal_input)
    assert problems and problems[0].startswith(f"network.{key}.0: "), problems


def test_short_quotes():
    assert quote("acme") == "'acme'"
    huge = quote("x" * 2_500_000)
    assert huge.startswith("'xxxx") and huge.endswith("(2500000 characters)") and len(huge) < 80
    nested = []
    for _ in range(100_000):
        nested = [nested]
    assert len(quote(nested)) < 100 and len(quote(list(range(10**5)))) < 100


HUGE = "x" * 2_500_000


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d["edxapp"].update(lms_host=HUGE),
        lambda d: d["edxapp"].update(db_admin_secret_id=HUGE),
        lambda d: d.update(deployment_id=HUGE),
        lambda d: d["options"].update(analytics_volume_gb=HUGE),
        lambda d: d["options"].update({HUGE: 1}),
        lambda d: d["network"].update(director_ssh_cidrs=["bad"] * 100_000),
        lambda d: d["network"].update(director_ssh_cidrs=[HUGE[:20_000] + str(n) for n in range(100)]),
        lambda d: d["options"].update(openedx_release=HUGE),
        lambda d: d["options"].update(x={str(n): n for n in range(100_000)}),
    ],
    ids=["pattern", "secret id", "deployment id", "type", "unknown key", "many bad items", "many long items", "enum", "many keys"],
)
def test_refusals_quote_at_most_a_short_prefix_of_the_value(mutate):
    doc = copy.deepcopy(BASE)
    mutate(doc)
    problems = validation_errors(doc)
    assert problems and len(problems) <= schemacheck.MAX_PROBLEMS + 1
    assert all(len(problem) <= schemacheck.MAX_MESSAGE + 1 for problem in problems), problems
    with pytest.raises(InputError) as refused:
        Deployment.from_input(doc, "us-east-1")
    assert len(str(refused.value)) < 10_000


def test_deep_nesting_and_numbers_json_cannot_carry_are_refused_without_recursing():
    nested = []
    for _ in range(100_000):
        nested = [nested]
    for where in ({"options": {"x": nested}}, {"options": {"analytics_volume_gb": nested}}, {"edxapp": {"lms_host": nested}}):
        doc = copy.deepcopy(BASE)
        for key, value in where.items():
            doc[key].update(value)
        assert validation_errors(doc) == [schemacheck.TOO_DEEP]
        with pytest.raises(InputError, match="nested more than"):
            request.check({"deployment": BASE, "keep_data": nested}, "us-east-1")
    assert validation_errors(nested) == [schemacheck.TOO_DEEP]
    for number in (float("nan"), float("inf")):
        doc = copy.deepcopy(BASE)
        doc["options"]["search_timeout_minutes"] = number
        assert validation_errors(doc) == [f"(document): {number!r} is not a JSON number; give a finite number"]


def test_the_published_schema_is_still_the_librarys():
    assert json.loads((REPO / "schema/execution-input.schema.json").read_text()) == deployment.schema()


def test_the_cli_quotes_a_short_prefix_too(tmp_path):
    from click.testing import CliRunner

    from analytics_provisioner import cli

    doc = copy.deepcopy(BASE)
    doc["edxapp"]["lms_host"] = HUGE
    (tmp_path / "input.json").write_text(json.dumps(doc))
    result = CliRunner().invoke(
        cli.main,
        [
            "start",
            "--input",
            str(tmp_path / "input.json"),
            "--state-machine-arn",
            "arn:aws:states:us-east-1:123456789012:stateMachine:never-called",
        ],
    )
    assert result.exit_code == cli.EXIT_USAGE and "edxapp.lms_host: 'xxxx" in result.output
    assert len(result.output) < 2000
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    result = CliRunner().invoke(cli.main, ["start", "--input", str(tmp_path / "deep.json")])
    assert result.exit_code == cli.EXIT_USAGE and "nests thousands of levels deep" in result.output


def test_world_open_ssh_warns_for_either_list(ready, minimal_input):
    from analytics_provisioner.phases import validate

    minimal_input["network"]["analytics_ssh_cidrs"] = ["0.0.0.0/0"]
    warnings = invoke(validate.run, minimal_input)["warnings"]
    assert any(
        "network.analytics_ssh_cidrs contains 0.0.0.0/0: SSH to the analytics instances is open to the whole internet" in w
        for w in warnings
    )
    assert not any("director_ssh_cidrs" in w for w in warnings)
