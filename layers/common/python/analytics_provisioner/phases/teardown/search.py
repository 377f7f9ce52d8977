"""The search domain: Search's partner. Its deletion is started here and waited on by the deletion
loop (steps), with the RDS instances, the instances and the EMR clusters."""

from ...aws import search
from ...aws import tags as tagging
from .request import TeardownRequest


def our_domain(request: TeardownRequest) -> dict | None:
    name, region = request.deployment.names.es_domain, request.deployment.region
    status = search.domain(name, region)
    if status is None or status.get("Deleted"):
        return None
    return status if tagging.belongs_to(search.tags_of(status["ARN"], region), request.deployment.deployment_id) else None


def start(request: TeardownRequest) -> str | None:
    """Start deleting our domain; its name, or None when there is none (left to delete)."""
    domain = our_domain(request)
    if domain:
        search.delete_domain(domain["DomainName"], request.deployment.region)
    return domain["DomainName"] if domain else None


def remaining(request: TeardownRequest) -> list[str]:
    return [domain["DomainName"] for domain in [our_domain(request)] if domain]
