"""Over HTTP: a template body with a bidi override is a problem naming the position, a zero-width
character comes back as a warning, and a name with a control character or a '/' is a problem."""

from __future__ import annotations


def test_a_bidi_override_in_a_body_is_a_problem_and_a_zero_width_space_a_warning(client,
                                                                                 key_a):
    refused = client.put("/v1/templates/pay", headers=key_a,
                         json={"body": "Pay \u202e0.01$"})
    assert refused.status_code == 422, refused.text
    assert "RIGHT-TO-LEFT OVERRIDE" in refused.json()["detail"]
    assert "position 4" in refused.json()["detail"]
    saved = client.put("/v1/templates/joined", headers=key_a, json={"body": "Hi\u200b there"})
    assert saved.status_code == 200, saved.text
    assert saved.json()["warnings"] == [
        "invisible character U+200B (ZERO WIDTH SPACE) at position 2"]


def test_a_name_with_a_control_character_is_a_problem(client, key_a):
    response = client.put("/v1/templates/tab%09name", headers=key_a, json={"body": "Hi"})
    assert response.status_code == 422, response.text
    assert "template name 'tab\\tname' contains U+0009" in response.json()["detail"]
    response = client.post("/v1/campaigns", headers=key_a, json={"name": "q3/east"})
    assert response.status_code == 422, response.text
    assert "campaign name 'q3/east' contains '/'" in response.json()["detail"]
