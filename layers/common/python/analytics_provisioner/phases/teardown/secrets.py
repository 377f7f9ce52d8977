"""Secrets, scheduled for deletion with a recovery window, so a mistaken teardown can be undone for a week.

Secrets are found by their names (naming.Names.secrets), never by ListSecrets: that list may omit a
secret created in the last five minutes, such as those of a failed run torn down at once."""

from ...aws import secrets
from ...aws import tags as tagging
from .request import TeardownRequest

RECOVERY_WINDOW_DAYS = 7


def run(request: TeardownRequest) -> dict:
    region = request.deployment.region
    scheduled = []
    for secret in our_secrets(request):
        if not secret.get("DeletedDate"):
            secrets.schedule_deletion(secret["ARN"], region, RECOVERY_WINDOW_DAYS)
            scheduled.append(secret["Name"])
    return {"secrets_scheduled_for_deletion": scheduled, "recovery_window_days": RECOVERY_WINDOW_DAYS}


def our_secrets(request: TeardownRequest) -> list[dict]:
    deployment = request.deployment
    found = [secrets.describe(name, deployment.region) for name in deployment.names.secrets]
    return [s for s in found if s and tagging.belongs_to(tagging.from_list(s.get("Tags")), deployment.deployment_id)]
