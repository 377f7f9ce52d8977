"""search phase (issue #4): not implemented yet."""

from ..errors import ProvisionerError


def run(state: dict) -> dict:
    raise ProvisionerError("the search phase is not implemented yet (issue #4)")


def status(event: dict) -> dict:
    raise ProvisionerError("not implemented yet")
