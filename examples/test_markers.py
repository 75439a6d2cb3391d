"""Markers choose the image and labels; the closest marker wins, labels merge key by key."""

import pytest

pytestmark = pytest.mark.agentbay(labels={"suite": "examples", "team": "platform"})


@pytest.mark.agentbay(image="code_latest", labels={"team": "agents"})
def test_image_and_labels(agentbay_session):
    assert agentbay_session.image_id == "code_latest"
    labels = agentbay_session.get_labels().data
    assert labels["suite"] == "examples"  # from the module
    assert labels["team"] == "agents"  # the test's marker is closer


@pytest.mark.agentbay(image="browser_latest")
class TestBrowserImage:
    def test_class_session_has_the_class_image(self, agentbay_class_session):
        assert agentbay_class_session.image_id == "browser_latest"

    def test_same_session_for_the_class(self, agentbay_class_session, agentbay_client):
        listed = agentbay_client.list(labels={"suite": "examples"})
        assert agentbay_class_session.session_id in listed.session_ids
