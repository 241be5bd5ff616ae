"""Bulk outbox rows: the format, and the relay publishing their events one by one against the real broker."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import insert

from services.identity.models import messaging
from shared.db import utcnow
from shared.messaging import OutboxRelay, bulk
from tests.shared.test_messaging import db, pending, queue, read_topic, settings_for  # noqa: F401 - fixture

TEMPLATE: list[str | int] = ['{"id":"', 1, '","type":"test.bulk","subject":"', 0]
TEMPLATE += ['","data":{"n":', 2, ',"ok":', 3, "}}"]


def payload(rows: list[tuple[str, str, int, bool]]) -> str:
    """A bulk payload of test.bulk events: (key, id, n, ok) each."""
    lines = [bulk.line(key, [event_id, str(n), "true" if ok else "false"]) for key, event_id, n, ok in rows]
    return bulk.header(TEMPLATE) + "\n".join(lines)


def test_records_render_each_event_with_its_key():
    rows = [("k1", "e1", 1, True), ("k2", "e2", 2, False)]
    assert list(bulk.records(payload(rows), 2)) == [
        ("k1", '{"id":"e1","type":"test.bulk","subject":"k1","data":{"n":1,"ok":true}}'),
        ("k2", '{"id":"e2","type":"test.bulk","subject":"k2","data":{"n":2,"ok":false}}'),
    ]
    assert list(bulk.events_of("plain-key", '{"a":1}', None)) == [("plain-key", '{"a":1}')]


@pytest.mark.parametrize(
    ("text", "count", "message"),
    [
        ("not json\nk\tv", 1, "not JSON"),
        ('{"a": 1}\nk\tv', 1, "strings and slot numbers"),
        ('["a", 1.5]\nk\tv', 1, "strings and slot numbers"),
        ('["a", true]\nk\tv', 1, "strings and slot numbers"),
        ('["a", -1]\nk\tv', 1, "strings and slot numbers"),
        ('["a",1]\nk\tv\tw', 1, "has 3 fields, the template takes 2"),
        ('["a",1]\nk', 1, "has 1 fields, the template takes 2"),
        ('["a",1]\nk\tv\nk2\tv2', 3, "holds 2 events, its records column says 3"),
    ],
)
def test_a_malformed_bulk_row_is_refused(text, count, message):
    with pytest.raises(bulk.BulkFormatError, match=message):
        list(bulk.records(text, count))


def test_values_with_tab_or_newline_are_refused():
    for bad in ("a\tb", "a\nb"):
        with pytest.raises(bulk.BulkFormatError):
            bulk.line("k", [bad])
        with pytest.raises(bulk.BulkFormatError):
            bulk.line(bad, ["v"])


def test_braces_in_fragments_are_text_not_slots():
    text = bulk.header(['{"a":"{0}","b":', 1, "}"]) + bulk.line("k", ['"{x}"'])
    assert list(bulk.records(text, 1)) == [("k", '{"a":"{0}","b":"{x}"}')]


def test_template_names_each_expression_once_and_the_key_first():
    template = bulk.BulkTemplate("k").lit('{"a":').sql("x").sql("y").lit(',"b":').lit('"c"').sql("x").sql("k")
    assert template.items == ['{"a":', 1, 2, ',"b":"c"', 1, 0]
    assert template.line_sql("postgresql", ":tab") == "concat((k), :tab, (x), :tab, (y))"
    assert template.line_sql("sqlite", ":tab") == "(k) || :tab || (x) || :tab || (y)"


async def test_relay_publishes_bulk_events_one_by_one_in_rounds_of_events(db, broker):  # noqa: F811
    keys = [str(uuid.uuid4()) for _ in range(3)]
    before = await queue(db, 2, uuid.UUID(keys[0]))  # two plain rows first
    events = [(keys[i % 3], str(uuid.uuid4()), i, i % 2 == 0) for i in range(7)]
    small = [(keys[1], str(uuid.uuid4()), 100, True)]
    t = messaging.outbox
    async with db.sessionmaker() as session, session.begin():
        for rows in (events, small):
            await session.execute(
                insert(t).values(
                    event_id=str(uuid.uuid4()),
                    topic="test.bulk",
                    key="batch",
                    payload=payload(rows),
                    created_at=utcnow(),
                    records=len(rows),
                )
            )
    after = await queue(db, 1, uuid.UUID(keys[2]))

    relay = OutboxRelay(db, messaging.outbox, settings_for(broker.bootstrap), batch_size=5)
    # Rounds stop before `batch_size` events would be passed, but always take one row: 2 plain rows
    # (the bulk row of 7 would make 9), then the bulk row alone, then the 1-event bulk row and the plain row.
    assert [await relay.publish_batch() for _ in range(4)] == [2, 7, 2, 0]
    await relay.close()
    assert await pending(db) == 0

    wanted = {e[1] for e in events + small}
    found = await read_topic(broker.bootstrap, "test.bulk", wanted)
    assert len(found) == 8 and {e["id"] for _, e in found} == wanted  # each once
    by_id = {e["id"]: (key.decode(), e) for key, e in found}
    for key, event_id, n, ok in events + small:
        assert by_id[event_id][0] == key  # each event under its own key
        assert by_id[event_id][1]["data"] == {"n": n, "ok": ok}
        assert by_id[event_id][1]["type"] == "test.bulk"
    for key in keys[:2]:  # one person's events stay in order
        mine = [e["data"]["n"] for k, e in found if k.decode() == key]
        assert mine == sorted(mine)
    plain = await read_topic(broker.bootstrap, "test.ping", set(before + after))
    assert len(plain) == 3
