"""An outbox row's payload (bot/domain/messages.py): every field of a message survives the trip through the outbox."""

from __future__ import annotations

from dataclasses import asdict, fields

from bot.domain.messages import Choice, Outbound


def test_the_payload_keeps_every_field_but_the_chat_and_the_row_id() -> None:
    notice = {"kind": "review_result", "params": ["Keripik", {"nested": [1]}]}
    message = Outbound(channel="telegram", address="42", text="Halo", choices=[Choice("a", "A")],
                       photos=["p/1.jpg"], request_contact="Kirim nomor", locale="en", notice=notice,
                       outbox_id=7, page=2)
    payload = message.to_payload()
    assert set(payload) == {f.name for f in fields(Outbound)} - {"channel", "address", "outbox_id"}
    again = Outbound.from_payload("telegram", "42", payload, 7)
    assert asdict(again) == asdict(message)
    notice["params"][1]["nested"].append(2)  # the payload is a copy: later changes to the message stay out
    assert payload["notice"]["params"][1] == {"nested": [1]}
    assert "page" not in Outbound(channel="t", address="1", text="x").to_payload()
