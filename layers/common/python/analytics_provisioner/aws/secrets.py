"""Secrets Manager: the only place a credential lives. Callers get ids and ARNs back, never values."""

import json
import os
import shlex

from botocore.exceptions import ClientError

from .. import naming
from ..errors import PreflightError
from . import tags as tagging
from .clients import client
from .errors import absent_on, aws_call, error_code, gone_is_success


def _kms_key_id() -> str | None:
    return os.environ.get("SECRETS_KMS_KEY_ID") or None


def describe(secret_id: str, region: str) -> dict | None:
    return absent_on(lambda: client("secretsmanager", region).describe_secret(SecretId=secret_id), "ResourceNotFoundException")


def read_json(secret_id: str, region: str, required_keys: tuple[str, ...] = (), purpose: str = "") -> dict:
    """The secret's JSON value; PreflightError (naming the secret, never its value) when unusable."""
    label = f"secret {secret_id!r}" + (f" ({purpose})" if purpose else "")
    try:
        raw = client("secretsmanager", region).get_secret_value(SecretId=secret_id)["SecretString"]
    except ClientError as exc:
        code = error_code(exc)
        if code in ("ResourceNotFoundException", "AccessDeniedException", "DecryptionFailure", "InvalidRequestException"):
            raise PreflightError(
                f"{label} is not readable ({code}); create it, or have its owner opt it in with the tag "
                f'{naming.TAG_ALLOW} (README, "Trust model"): this stack reads no other secret of the account'
            ) from None
        raise
    except KeyError:
        raise PreflightError(f"{label} has no SecretString; store it as a JSON object") from None
    try:
        value = json.loads(raw)
    except ValueError:
        raise PreflightError(f"{label} is not a JSON object; store it as JSON with keys {', '.join(required_keys)}") from None
    if not isinstance(value, dict):
        raise PreflightError(f"{label} is not a JSON object; store it as JSON with keys {', '.join(required_keys)}")
    missing = [key for key in required_keys if key not in value or value[key] in (None, "")]
    if missing:
        raise PreflightError(f"{label} lacks the key(s) {', '.join(missing)}; add them to the secret's JSON")
    return value


# --- secrets the input names: used only when their owner opted them in -----------------------------
def opt_in_command(secret_id: str, region: str, value: str) -> str:
    return f"aws secretsmanager tag-resource --region {region} --secret-id {shlex.quote(secret_id)} --tags {tagging.allow_tags_argument(value)}"


def require_opted_in(secret_id: str, region: str, deployment_id: str, field: str) -> None:
    """NotOptedInError unless the secret's owner tagged it for this deployment. An absent secret passes
    here (reading it says so). This stack's roles may read only secrets carrying the tag, so AWS
    denies DescribeSecret on one without it: that is the same answer."""
    what = f"secret {secret_id!r}"
    try:
        described = describe(secret_id, region)
    except ClientError as exc:
        if error_code(exc) != "AccessDeniedException":
            raise
        found = f"this stack may not describe it ({error_code(exc)}): it lacks the tag, or it is not a secret of this account"
        raise tagging.not_opted_in(field, what, deployment_id, found, opt_in_command(secret_id, region, deployment_id)) from None
    if described is not None:
        tagging.require_opted_in(
            tagging.from_list(described.get("Tags")), deployment_id, field, what, lambda value: opt_in_command(secret_id, region, value)
        )


def read_opted_in(secret_id: str, region: str, deployment_id: str, required_keys: tuple[str, ...], field: str) -> dict:
    """``read_json`` of a secret the input names, after checking its owner's opt-in (every phase that reads one)."""
    require_opted_in(secret_id, region, deployment_id, field)
    return read_json(secret_id, region, required_keys, field)


def put_json(name: str, value: dict, region: str, deployment_id: str, description: str = "") -> str:
    """Create the secret, or store a new version when it exists and is ours; returns its ARN."""
    sm = client("secretsmanager", region)
    payload = json.dumps(value)
    existing = describe(name, region)
    with aws_call(f"store secret {name}"):
        if existing is None:
            kwargs: dict[str, object] = {
                "Name": name,
                "SecretString": payload,
                "Description": description,
                "Tags": tagging.as_list(tagging.ours(deployment_id)),
            }
            if _kms_key_id():
                kwargs["KmsKeyId"] = _kms_key_id()
            return sm.create_secret(**kwargs)["ARN"]
        _require_ours(existing, name, deployment_id)
        if existing.get("DeletedDate"):
            sm.restore_secret(SecretId=name)
        sm.put_secret_value(SecretId=name, SecretString=payload)
        return existing["ARN"]


def schedule_deletion(secret_id: str, region: str, recovery_window_days: int) -> bool:
    """``put_json``'s partner: the secret goes after ``recovery_window_days`` (``put_json`` and
    ``arn_if_ours`` restore it until then); False when it was already gone."""
    return gone_is_success(
        lambda: client("secretsmanager", region).delete_secret(SecretId=secret_id, RecoveryWindowInDays=recovery_window_days),
        "ResourceNotFoundException",
    )


def _require_ours(described: dict, name: str, deployment_id: str) -> None:
    tagging.require_ours(tagging.from_list(described.get("Tags")), deployment_id, f"secret {name!r}")


def arn_if_ours(name: str, region: str, deployment_id: str) -> str | None:
    """ARN of our secret ``name`` (restored if scheduled for deletion), None when absent."""
    existing = describe(name, region)
    if existing is None:
        return None
    _require_ours(existing, name, deployment_id)
    if existing.get("DeletedDate"):
        client("secretsmanager", region).restore_secret(SecretId=name)
    return existing["ARN"]
