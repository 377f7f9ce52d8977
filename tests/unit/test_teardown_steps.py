"""The teardown's deletion loop (steps.status) counts the deployment's EMR clusters until they are gone."""

from analytics_provisioner.aws import emr
from analytics_provisioner.phases.teardown import check, steps
from analytics_provisioner.phases.teardown.request import TeardownRequest

REGION = "us-east-1"


def test_a_cluster_still_terminating_keeps_the_teardown_waiting(aws, minimal_input, monkeypatch):
    request = TeardownRequest.from_event(check({"deployment": minimal_input}, REGION))
    answers = [[{"Id": "j-ours", "Status": {"State": "TERMINATING"}}], []]
    asked = []
    monkeypatch.setattr(emr, "clusters_with_instance_profile", lambda profile, region: asked.append(profile) or answers.pop(0))
    first = steps.status(request, {"poll": {"checks": 0, "waited_seconds": 0, "next_wait_seconds": 60}})
    assert first["ready"] is False and first["waiting_for"]["emr_clusters"] == ["j-ours"]
    second = steps.status(request, first)
    assert second["ready"] is True and second["waiting_for"]["emr_clusters"] == []
    assert asked == [request.deployment.names.emr_instance_profile] * 2
