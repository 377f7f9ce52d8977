"""Expand the SAM template into plain CloudFormation JSON, offline, for checkov.

checkov ignores SAM ``Policies:``; the translator turns them into the ``AWS::IAM::Role`` resources that
are deployed, so the scan sees the real roles. Runs in .venv-gates (aws-sam-translator):

    python scripts/expand_template.py template.yaml OUT.json

Local code paths become S3 placeholders (what ``sam package`` does) and each state machine's
``DefinitionUri`` is inlined, so nothing is uploaded and no AWS call is made: the managed-policy ARNs
come from the translator's bundled map. A SAM resource's checkov skips (``Metadata: checkov: skip``)
also apply to what it generates (a function's role, an API's stage), so a skip sits next to the SAM
resource it concerns.
"""

import copy
import json
import os
import sys
from pathlib import Path

from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

PLACEHOLDER = {"Bucket": "expanded-offline", "Key": "code.zip"}
CODE_PROPERTIES = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}


def packaged(template: dict, base: Path) -> dict:
    """The template as ``sam package`` would leave it: code in S3, state machine definitions inline."""
    template = copy.deepcopy(template)
    for resource in template.get("Resources", {}).values():
        properties = resource.setdefault("Properties", {})
        code = CODE_PROPERTIES.get(resource.get("Type"))
        if code and isinstance(properties.get(code), str):
            properties[code] = dict(PLACEHOLDER)
        if resource.get("Type") == "AWS::Serverless::StateMachine" and isinstance(properties.get("DefinitionUri"), str):
            properties["Definition"] = json.loads((base / properties.pop("DefinitionUri")).read_text())
    return template


def expand(template_path: Path) -> dict:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    template = packaged(yaml_parse(template_path.read_text()), template_path.parent)
    expanded = Translator(None, Parser()).translate(copy.deepcopy(template), parameter_values={}, get_managed_policy_map=dict)
    inherit_checkov_skips(template["Resources"], expanded["Resources"])
    return expanded


def inherit_checkov_skips(sam_resources: dict, resources: dict) -> None:
    """Generated resources are named after their SAM resource (ApiFunction -> ApiFunctionRole)."""
    sam_ids = [logical_id for logical_id, resource in sam_resources.items() if resource.get("Type", "").startswith("AWS::Serverless::")]
    for logical_id, resource in resources.items():
        owners = [sam_id for sam_id in sam_ids if logical_id.startswith(sam_id) and logical_id not in sam_resources]
        if not owners:
            continue
        skips = sam_resources[max(owners, key=len)].get("Metadata", {}).get("checkov")
        if skips:
            resource.setdefault("Metadata", {})["checkov"] = copy.deepcopy(skips)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(f"usage: {argv[0]} TEMPLATE OUT.json", file=sys.stderr)
        return 2
    Path(argv[2]).write_text(json.dumps(expand(Path(argv[1])), indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
