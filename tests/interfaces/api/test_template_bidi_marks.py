"""Issue 16: a template's bidi marks setting over the API, and the preview's cost of them."""

from __future__ import annotations

NAME_FIRST = "{FirstName} " + "ب" * 64  # 69 units bare, 71 with the fence the name needs


def test_api_template_setting_round_trips_and_the_preview_shows_the_cost(client, key_a):
    saved = client.put("/v1/templates/ar", headers=key_a,
                       json={"body": NAME_FIRST, "direction": "rtl"})
    assert saved.status_code == 200 and saved.json()["bidi_marks"] == "auto"
    preview = client.post("/v1/templates/ar/preview", headers=key_a,
                          json={"values": {"FirstName": "Mona"}}).json()
    assert (preview["segments"], preview["bidi_mark_units"], preview["bidi_mark_segments"]) \
        == (2, 2, 1)
    patched = client.patch("/v1/templates/ar", headers=key_a, json={"bidi_marks": "off"})
    assert patched.status_code == 200 and patched.json()["bidi_marks"] == "off"
    preview = client.post("/v1/templates/ar/preview", headers=key_a,
                          json={"values": {"FirstName": "Mona"}}).json()
    assert (preview["segments"], preview["bidi_mark_units"]) == (1, 0)
    refused = client.patch("/v1/templates/ar", headers=key_a, json={"bidi_marks": "never"})
    assert refused.status_code == 422 and "bidi_marks" in refused.text
