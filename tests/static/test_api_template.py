"""The deployments API in template.yaml: AWS_IAM (SigV4) on every route, checked on the template as
written and on what SAM deploys (the translator's expansion, run in .venv-sam, which has it)."""

import json
import os
import re
import subprocess

import pytest

from analytics_provisioner.local import template as cfn
from analytics_provisioner.local.lambda_hook import Context
from testkit import REPO

TEMPLATE = cfn.load()
RESOURCES = TEMPLATE["Resources"]
APIS = {logical_id: r for logical_id, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Api"}
MACHINES = {"PROVISION_STATE_MACHINE_ARN": "ProvisionStateMachine", "TEARDOWN_STATE_MACHINE_ARN": "TeardownStateMachine"}

# The translator as `sam build/deploy` runs it, offline: code and definitions stay local placeholders.
TRANSLATE = r"""
import json, sys
from pathlib import Path
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

root = Path(sys.argv[1])
template = yaml_parse((root / "template.yaml").read_text())
for resource in template["Resources"].values():
    properties = resource.setdefault("Properties", {})
    for key in ("CodeUri", "ContentUri"):
        if isinstance(properties.get(key), str):
            properties[key] = {"Bucket": "offline", "Key": "code.zip"}
    if isinstance(properties.get("DefinitionUri"), str):
        properties["Definition"] = json.loads((root / properties.pop("DefinitionUri")).read_text())
print(json.dumps(Translator(None, Parser()).translate(template, parameter_values={}, get_managed_policy_map=dict)))
"""


def _api_events():
    for logical_id, resource in RESOURCES.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for name, event in resource["Properties"].get("Events", {}).items():
            if event["Type"] in ("Api", "HttpApi"):
                yield logical_id, name, event


ROUTES = [(event["Properties"]["Method"].upper(), event["Properties"]["Path"]) for _, _, event in _api_events()]
LIST = ("GET", "/deployments")  # the one route without an id: read-only, for whoever may see every deployment


@pytest.fixture(scope="module")
def deployed() -> dict:
    python = REPO / ".venv-sam" / "bin" / "python"
    assert python.is_file(), "the SAM translator lives in .venv-sam: run `make setup-sam`"
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    done = subprocess.run([str(python), "-c", TRANSLATE, str(cfn.REPO_ROOT)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)["Resources"]


def test_the_template_declares_the_three_routes():
    assert sorted(ROUTES) == [LIST, ("GET", "/deployments/{id}"), ("POST", "/deployments/{id}"), ("POST", "/deployments/{id}/teardown")]


def test_every_rest_api_requires_aws_iam_by_default():
    assert APIS, "no AWS::Serverless::Api"
    for logical_id, api in APIS.items():
        auth = api["Properties"].get("Auth", {})
        assert auth.get("DefaultAuthorizer") == "AWS_IAM", logical_id
        assert not auth.get("AddDefaultAuthorizerToCorsPreflight") is False, f"{logical_id}: preflight without auth"


def test_every_route_is_on_a_declared_api_and_keeps_aws_iam():
    for function, name, event in _api_events():
        properties = event["Properties"]
        assert event["Type"] == "Api", f"{function}.{name}: HTTP APIs are not covered by the IAM default"
        assert properties.get("RestApiId", {}).get("Ref") in APIS, f"{function}.{name}: an implicit API has no IAM default"
        assert properties.get("Auth", {}).get("Authorizer", "AWS_IAM") == "AWS_IAM", f"{function}.{name} overrides the authorizer"


def test_no_other_entry_point_bypasses_iam():
    for logical_id, resource in RESOURCES.items():
        properties = resource.get("Properties", {})
        assert resource["Type"] not in ("AWS::Serverless::HttpApi", "AWS::ApiGatewayV2::Api"), logical_id
        if resource["Type"] == "AWS::ApiGateway::Method":
            assert properties.get("AuthorizationType") == "AWS_IAM", logical_id
        url = properties.get("FunctionUrlConfig") if resource["Type"] == "AWS::Serverless::Function" else None
        assert url is None or url.get("AuthType") == "AWS_IAM", f"{logical_id}: a function URL without IAM"


def test_every_deployed_method_requires_sigv4(deployed):
    for logical_id in APIS:
        body = deployed[logical_id]["Properties"]["Body"]
        assert body["securityDefinitions"]["AWS_IAM"]["x-amazon-apigateway-authtype"] == "awsSigv4"
        methods = [(method.upper(), path, spec) for path, item in body["paths"].items() for method, spec in item.items()]
        assert sorted((method, path) for method, path, _ in methods) == sorted(ROUTES)
        for method, path, spec in methods:
            assert spec.get("security") == [{"AWS_IAM": []}], f"{method} {path}"


def test_api_gateway_invokes_the_function_with_its_own_permission_not_the_callers(deployed):
    """SAM's AWS_IAM default also sets the integration to the caller's credentials, so a caller would
    need lambda:InvokeFunction on the function besides execute-api:Invoke: ``Auth.InvokeRole: NONE``."""
    for logical_id in APIS:
        for path, item in deployed[logical_id]["Properties"]["Body"]["paths"].items():
            for method, spec in item.items():
                assert "credentials" not in spec["x-amazon-apigateway-integration"], f"{method.upper()} {path}: set Auth.InvokeRole: NONE"


def test_every_template_route_reaches_the_resolver(monkeypatch):
    from analytics_provisioner.api import app

    for env in MACHINES:
        monkeypatch.delenv(env, raising=False)

    def resolve(method: str, path: str) -> dict:
        concrete = path.replace("{id}", "acme-demo")
        event = {
            "httpMethod": method,
            "path": concrete,
            "resource": path,
            "headers": {},
            "body": None,
            "requestContext": {"stage": "v1", "path": f"/v1{concrete}"},
            "pathParameters": None,
        }
        return json.loads(app.resolve(event, Context("ApiFunction", 30))["body"])

    assert resolve("DELETE", "/deployments/{id}")["message"].startswith("no such route")
    for method, path in ROUTES:
        assert not resolve(method, path)["message"].startswith("no such route"), f"{method} {path} is not a resolver route"


def test_the_api_function_knows_each_state_machine_and_may_use_only_those():
    properties = RESOURCES["ApiFunction"]["Properties"]
    variables = properties["Environment"]["Variables"]
    statements = [s for policy in properties["Policies"] for s in policy["Statement"]]
    for env, machine in MACHINES.items():
        if machine not in RESOURCES:
            continue
        assert variables.get(env) == {"Ref": machine}, f"ApiFunction needs {env}: !Ref {machine}"
        assert _allowed(statements, {"Ref": machine}) >= {"states:StartExecution", "states:ListExecutions"}, machine
        name = RESOURCES[machine]["Properties"]["Name"]["Fn::Sub"]
        executions = {"Fn::Sub": "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:" + name + ":*"}
        assert _allowed(statements, executions) >= {"states:DescribeExecution", "states:GetExecutionHistory"}, machine
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if statement.get("Sid") == "ListTheDeployments":  # GET /deployments reads the lock table, nothing else
            assert (actions, statement["Resource"]) == (["dynamodb:Scan"], {"Fn::GetAtt": ["DeploymentLocksTable", "Arn"]})
            continue
        if statement.get("Sid") == "ReadTheLockTableThroughDynamoDB":
            assert statement["Condition"]["StringEquals"]["kms:ViaService"] == {"Fn::Sub": "dynamodb.${AWS::Region}.amazonaws.com"}
            continue
        assert all(action.startswith("states:") and "*" not in action for action in actions), statement
        assert statement["Resource"] != "*", statement


def _allowed(statements: list[dict], resource) -> set[str]:
    allowed = set()
    for statement in statements:
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if statement["Effect"] == "Allow" and resource in resources:
            allowed |= set(statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
    return allowed


def _readme_policy() -> dict:
    """The per-deployment policy the README shows (Trust model, "What an API caller needs")."""
    blocks = re.findall(r"```json\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    [policy] = [json.loads(block) for block in blocks if "execute-api:Invoke" in block]
    return policy


def _iam_match(pattern: str, value: str) -> bool:
    """IAM's wildcards: ``*`` any run of characters (``/`` included), ``?`` one character, nothing else special."""
    regex = "".join(".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return re.fullmatch(regex, value, re.S) is not None


def _invokes(policy: dict, method: str, path: str) -> bool:
    """Whether ``policy`` lets its holder call ``method path`` on the README's API (id a1b2c3d4e5, stage v1)."""
    arn = f"arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/v1/{method}{path}"
    return any(
        statement["Effect"] == "Allow" and _iam_match(statement["Action"], "execute-api:Invoke") and _iam_match(statement["Resource"], arn)
        for statement in policy["Statement"]
    )


def test_every_route_names_one_deployment_in_its_path():
    """No route without the id: a caller confined to some deployments has no route that reaches others."""
    from analytics_provisioner.api import app

    for method, path in ROUTES:
        assert (method, path) == LIST or re.fullmatch(r"/deployments/\{id\}(/[a-z]+)?", path), (
            f"{method} {path}: the deployment id must follow /deployments/"
        )
    assert {(method, pattern.pattern) for method, pattern, _ in app.routes} == {
        (method, path.replace("{id}", "(?P<deployment_id>[^/]+)")) for method, path in ROUTES
    }, "the function routes exactly the template's routes"


def test_the_readmes_policy_lets_a_caller_reach_its_deployments_and_no_other():
    policy = _readme_policy()
    assert [statement["Resource"].rsplit("/", 2)[-2:] for statement in policy["Statement"]] == [["deployments", "acme-*"]]
    assert not _invokes(policy, *LIST), "the list shows every deployment: a confined caller may not have it"
    for method, path in (route for route in ROUTES if route != LIST):
        for deployment in ("acme-prod", "acme-staging-2"):
            assert _invokes(policy, method, path.replace("{id}", deployment)), f"{method} {path} for {deployment}"
        for deployment in ("other-prod", "acme", "acm", "xacme-prod", "prod-acme-x"):
            assert not _invokes(policy, method, path.replace("{id}", deployment)), f"{method} {path} for {deployment}"
    assert not _invokes(policy, "POST", "/deployments"), "the old route without the id"


def test_the_resolver_acts_only_on_the_deployment_its_path_names(monkeypatch):
    """A body for another deployment, or a path id that is not a deployment id, is refused before any AWS call."""
    from analytics_provisioner.api import app

    monkeypatch.setenv("PROVISION_STATE_MACHINE_ARN", "arn:aws:states:us-east-1:123456789012:stateMachine:never-called")
    document = json.loads((REPO / "events" / "input-minimal.json").read_text())
    for path_id, body in (
        ("acme-prod", {**document, "deployment_id": "other-prod"}),
        ("acme-prod", {k: v for k, v in document.items() if k != "deployment_id"}),
        ("acme-prod%2F..%2Fother", document),
        ("acme-*", document),
    ):
        event = {
            "httpMethod": "POST",
            "path": f"/deployments/{path_id}",
            "resource": "/deployments/{id}",
            "headers": {},
            "body": json.dumps(body),
            "requestContext": {"stage": "v1", "path": f"/v1/deployments/{path_id}"},
            "pathParameters": {"id": path_id},
        }
        answer = app.resolve(event, Context("ApiFunction", 30))
        assert answer["statusCode"] == 400, (path_id, answer["body"])
