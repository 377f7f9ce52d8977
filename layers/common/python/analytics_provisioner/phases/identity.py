"""identity phase (issue #3): not implemented yet."""

from ..errors import ProvisionerError


def run(state: dict) -> dict:
    raise ProvisionerError("the identity phase is not implemented yet (issue #3)")
