"""Secrets (with a recovery window, so a mistaken teardown can be undone for a week) and key pairs.

Secrets are found by their names (naming.Names.secrets), never by ListSecrets: that list may omit a
secret created in the last five minutes, such as those of a failed run torn down at once."""

from ...aws import secrets
from ...aws import tags as tagging
from ...aws.clients import client
from ...naming import TAG_DEPLOYMENT
from .request import TeardownRequest

RECOVERY_WINDOW_DAYS = 7


def run(request: TeardownRequest) -> dict:
    deployment_id, region = request.deployment.deployment_id, request.deployment.region
    ec2 = client("ec2", region)
    key_pairs = [k["KeyName"] for k in ec2.describe_key_pairs(Filters=[{"Name": f"tag:{TAG_DEPLOYMENT}", "Values": [deployment_id]}])["KeyPairs"]]
    for name in key_pairs:
        ec2.delete_key_pair(KeyName=name)
    secrets_manager = client("secretsmanager", region)
    scheduled = []
    for secret in our_secrets(request):
        if not secret.get("DeletedDate"):
            secrets_manager.delete_secret(SecretId=secret["ARN"], RecoveryWindowInDays=RECOVERY_WINDOW_DAYS)
            scheduled.append(secret["Name"])
    return {"key_pairs_deleted": key_pairs, "secrets_scheduled_for_deletion": scheduled, "recovery_window_days": RECOVERY_WINDOW_DAYS}


def our_secrets(request: TeardownRequest) -> list[dict]:
    deployment = request.deployment
    found = [secrets.describe(name, deployment.region) for name in deployment.names.secrets]
    return [s for s in found if s and tagging.belongs_to(tagging.from_list(s.get("Tags")), deployment.deployment_id)]
