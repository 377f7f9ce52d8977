"""Lambda: this stack's own functions, as AWS describes them (Verify judges the database-setup
function's network paths on its VpcConfig)."""

from .clients import client


def vpc_config(function_name: str, region: str) -> dict | None:
    """The function's ``VpcConfig`` (``SubnetIds``, ``SecurityGroupIds``, ``VpcId``); None when it runs outside a VPC."""
    return client("lambda", region).get_function_configuration(FunctionName=function_name).get("VpcConfig")
