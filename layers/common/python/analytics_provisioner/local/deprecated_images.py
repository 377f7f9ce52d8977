"""AWS rule: public images are deprecated two years after creation, and DescribeImages hides them.

AWS gives every public AMI a ``DeprecationTime`` two years after its ``CreationDate`` (its owner may
set an earlier one). Once that time has passed, DescribeImages leaves the image out unless the
request names it in ``ImageIds``, passes ``IncludeDeprecated=True``, or comes from the image's owner;
the image still launches. Every Ubuntu 16.04 and 18.04 image is deprecated. moto sets no
``DeprecationTime`` and hides nothing (``tests/static/test_moto_canary.py`` checks it still does not).
"""

from datetime import UTC, datetime

from . import hooks

PUBLIC_IMAGE_YEARS = 2


def deprecation_time(image: dict) -> datetime | None:
    """When AWS deprecates the image: its own DeprecationTime, else two years after creation for a public one."""
    if image.get("DeprecationTime"):
        return _parse(image["DeprecationTime"])
    if image.get("Public") and image.get("CreationDate"):
        created = _parse(image["CreationDate"])
        return created.replace(year=created.year + PUBLIC_IMAGE_YEARS, day=min(created.day, 28 if created.month == 2 else 31))
    return None


def _parse(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def rule(account: str) -> list[hooks.Entry]:
    """The handlers that apply the rule to DescribeImages calls of ``account``."""

    def hide_deprecated(parsed, context, **_):
        request, now = hooks.request(context), datetime.now(UTC)
        asked = bool(request.get("ImageIds") or request.get("IncludeDeprecated"))
        shown = []
        for image in parsed.get("Images", []):
            deprecated_at = deprecation_time(image)
            if deprecated_at is not None:
                image["DeprecationTime"] = _iso(deprecated_at)
            if deprecated_at is None or deprecated_at > now or asked or image.get("OwnerId") == account:
                shown.append(image)
        if "Images" in parsed:
            parsed["Images"] = shown

    return [("provide-client-params.ec2.DescribeImages", hooks.remember_request), ("after-call.ec2.DescribeImages", hide_deprecated)]
