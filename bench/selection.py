"""selection benchmark on PostgreSQL: deciding a batch of 1,000,000 applications against 10,000,000 exclusion
entries, against a baseline measured in the same run, then the relay publishing the million events.

1. Data, generated in SQL (generate_series): applicants and applications, twelve exclusion lists, an earlier
   batch's recipients (so the earlier-recipient and per-KK rules have something to count). Exclusion entries
   are matched with applicants the way an import does it (timed and shown: that cost is paid per import).
2. Baseline: one bare `INSERT ... SELECT` of the same million rows into a copy of the decisions table (its
   primary key included, as every table holding decisions has one).
3. The decide run, exactly as the service runs it (runs.step): eligibility, KK cap, ranking and decisions
   with their reasons (into the batch's new partition, its key built after), recipients; then the million
   application.decided outbox rows, with the counts and result hash read beside them. Target: at most 60 s
   and within 3x of the baseline.
4. The outbox relay publishing those events to the real broker (Tansu): events/s, target >= 10,000/s.

Sizes: BENCH_SELECTION_APPLICATIONS (1000000) and BENCH_SELECTION_EXCLUSIONS (10000000).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from services.selection import repository, runs
from services.selection import repository_exclusions as excl_repo
from services.selection.config import SelectionSettings
from services.selection.lottery import lottery_number_sql
from services.selection.models import messaging
from services.selection.service import SOURCE, SelectionContext
from shared.db import Database
from shared.dev.broker import start_broker
from shared.messaging import Outbox, OutboxRelay
from shared.migrate import upgrade

PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
APPLICATIONS = int(os.environ.get("BENCH_SELECTION_APPLICATIONS", "1000000"))
EXCLUSIONS = int(os.environ.get("BENCH_SELECTION_EXCLUSIONS", "10000000"))
QUOTA = int(APPLICATIONS * 0.6)
BATCH = uuid.UUID("00000000-0000-4000-8000-0000000000b1")
EARLIER = uuid.UUID("00000000-0000-4000-8000-0000000000b0")
CATEGORIES = (
    "state_official", "legislator", "civil_servant", "military", "police", "village_official", "soe_executive",
    "social_aid", "wage_subsidy", "micro_business_aid", "earlier_recipient", "student",
)  # fmt: skip
STATUSES = "'laid_off','laid_off','furloughed','not_working','not_working','not_working','working','working'," \
    "'self_employed','self_employed'"  # fmt: skip


def _data_sql(n: int, e: int) -> list[tuple[str, str]]:
    # Applicant i: NIK hash sha256(i), KK shared by 3 consecutive applicants (1% without KK), 3% under 18,
    # tests 40-99 (pass mark 50), 2% students, 5% on an exclusion list. The earlier batch selected 200,000
    # people, a tenth of them from current applicants' families.
    return [
        (
            "batches",
            f"""INSERT INTO batches (id, number, state, opens_at, closes_at, announce_at, quota, policy_version,
            province_quotas, rules, training_balance, incentive_amount, incentive_months, survey_incentive_amount,
            survey_incentive_count, seed, seed_hash, created_at, created_by, opened_at, closed_at)
          VALUES ('{BATCH}', 2, 'closed', now() - interval '3 days', now(), now() + interval '1 day', {QUOTA},
            '2026.1', false, '{{"min_age": 18, "max_age": 64, "max_per_kk": 2, "pass_mark": 50.0}}', 3500000,
            600000, 4, 50000, 3, encode(sha256('bench seed'::bytea), 'hex'),
            encode(sha256(convert_to(encode(sha256('bench seed'::bytea), 'hex'), 'UTF8')), 'hex'),
            now() - interval '4 days', '{BATCH}', now() - interval '3 days', now())""",
        ),
        (
            "applicants",
            f"""INSERT INTO applicants (account_id, nik_hash, kk_hash, birth_date, sex, province_code,
            regency_code, education, employment_status, is_student, profile_completed_at, test_total,
            test_finished_at, updated_at)
          SELECT md5('acct' || i)::uuid, sha256(int8send(i)),
            CASE WHEN i % 100 = 0 THEN NULL ELSE sha256(int8send(-1 - i / 3)) END,
            CASE WHEN i % 33 = 0 THEN date '2010-01-01' ELSE date '1962-01-01' + ((i * 7919) % 16000)::int END,
            CASE WHEN i % 2 = 0 THEN 'L' ELSE 'P' END, (11 + i % 34)::text, NULL, 'sma',
            (ARRAY[{STATUSES}])[1 + i % 10], i % 50 = 0, now(), 40 + ((i * 37) % 60)::float, now(), now()
          FROM generate_series(1::bigint, {n}) i""",
        ),
        (
            "applications",
            # Each with the lottery number drawn at joining, from the batch's seed, as the service does.
            f"""INSERT INTO applications (id, batch_id, account_id, created_at, lottery)
          SELECT md5('app' || i)::uuid, '{BATCH}', md5('acct' || i)::uuid, now(),
            {lottery_number_sql(f"(SELECT seed FROM batches WHERE id = '{BATCH}')", "md5('acct' || i)::uuid")}
          FROM generate_series(1::bigint, {n}) i""",
        ),
        (
            "earlier recipients",
            f"""INSERT INTO recipients (batch_id, account_id, nik_hash, kk_hash)
          SELECT '{EARLIER}', md5('earlier' || j)::uuid, sha256(int8send(10000000000 + j)),
            CASE WHEN j % 10 = 0 THEN sha256(int8send(-1 - j * 3)) ELSE sha256(int8send(20000000000 + j)) END
          FROM generate_series(1::bigint, {n // 5}) j""",
        ),
        (
            "exclusion lists",
            f"""INSERT INTO exclusion_lists (category, source, as_of, mode, status, entries, rows,
            duplicates, bad_rows, imported_at, imported_by)
          SELECT c, 'bench', date '2026-01-01', 'append', 'active', 0, 0, 0, 0, now(), '{BATCH}'
          FROM unnest(ARRAY{list(CATEGORIES)}) c""",
        ),
        (
            "exclusion entries",
            f"""INSERT INTO exclusion_entries (nik_hash, list_id)
          SELECT sha256(int8send(CASE WHEN j <= {n // 20} THEN j * 20 ELSE 1000000000 + j END)),
            (SELECT min(id) FROM exclusion_lists) + j % 12
          FROM generate_series(1::bigint, {e}) j ORDER BY 1""",
        ),
    ]


async def _database() -> str:
    admin = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"bench_selection_{uuid.uuid4().hex[:8]}"
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


async def _drop(url: str) -> None:
    admin = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    await admin.dispose()


async def _sql(db: Database, sql: str) -> float:
    started = time.perf_counter()
    async with db.engine.begin() as conn:
        await conn.execute(text(sql))
    return time.perf_counter() - started


async def _checkpoint(db: Database) -> None:
    async with db.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE"))
        await conn.execute(text("CHECKPOINT"))


def _line(label: str, value: str) -> None:
    print(f"{label} {'.' * max(2, 44 - len(label))} {value}", flush=True)


async def run(seconds: float = 0.0) -> None:
    try:
        url = await _database()
    except Exception as exc:  # noqa: BLE001 - explain and skip
        print(f"selection benchmark needs PostgreSQL at {PG_URL}: {exc}")
        return
    db = Database(url, pool_size=4)
    broker = None
    try:
        await asyncio.to_thread(upgrade, "selection", url)
        async with db.engine.connect() as conn:
            version = (await conn.execute(text("SHOW server_version"))).scalar_one()
        print(
            f"\n== selection benchmark (PostgreSQL {version}, {APPLICATIONS:,} applications, {EXCLUSIONS:,} exclusion "
            f"entries, quota {QUOTA:,}, {os.cpu_count()} cores) =="
        )
        generated = 0.0
        for _name, sql in _data_sql(APPLICATIONS, EXCLUSIONS):
            generated += await _sql(db, sql)
        _line("data generated (SQL generate_series)", f"{generated:8.1f} s")
        await _checkpoint(db)
        started = time.perf_counter()
        async with db.sessionmaker() as session, session.begin():
            list_ids = [row[0] for row in await session.execute(text("SELECT id FROM exclusion_lists ORDER BY id"))]
            matched = sum([await excl_repo.match_list(session, list_id) for list_id in list_ids])
        _line("exclusion matching, as imports do it", f"{time.perf_counter() - started:8.1f} s   ({matched:,} "
              f"applicants on a list; paid once per import, not per decide)")  # fmt: skip
        await _checkpoint(db)

        await _sql(db, "CREATE TABLE decisions_baseline (LIKE decisions INCLUDING ALL)")
        await _checkpoint(db)
        baseline = await _sql(
            db,
            "INSERT INTO decisions_baseline (batch_id, application_id, account_id, selected, reasons) "
            f"SELECT a.batch_id, a.id, a.account_id, false, '' FROM applications a WHERE a.batch_id = '{BATCH}'",
        )
        _line("baseline: bare INSERT ... SELECT of 1 row each", f"{baseline:8.1f} s")
        await _sql(db, "DROP TABLE decisions_baseline")
        await _checkpoint(db)

        settings = SelectionSettings(database_url=url, blind_index_key="", require_keys=False)
        ctx = SelectionContext(db=db, settings=settings, outbox=Outbox(messaging, source=SOURCE), index_key=b"")
        started = time.perf_counter()
        async with db.sessionmaker() as session, session.begin():
            batch = await repository.batch(session, BATCH)
            assert batch is not None
            simulation = await runs.simulate(
                session, batch, runs.simulation_inputs(batch, datetime.now(UTC), {}), settings.decide_work_mem
            )
        _line("simulation (dry run, writes nothing)", f"{time.perf_counter() - started:8.1f} s")

        async with db.sessionmaker() as session, session.begin():
            batch = await repository.batch(session, BATCH)
            assert batch is not None
            run_row, _ = await runs.start_decide(ctx, session, batch, uuid.uuid4())
        steps: list[tuple[str, float]] = []
        total_started = time.perf_counter()
        state = "pending"
        while state != "finished":
            started = time.perf_counter()
            reached = await runs.step(ctx, run_row.id)
            steps.append((f"{state} -> {reached}", time.perf_counter() - started))
            state = reached
        decide_s = time.perf_counter() - total_started
        for name, took in steps:
            _line(f"  decide step {name}", f"{took:8.1f} s")
        async with db.sessionmaker() as session:
            finished = await repository.run_of(session, BATCH)
            outbox_rows = (await session.execute(text("SELECT count(*) FROM outbox"))).scalar_one()
        assert finished is not None and finished.counts is not None
        counts = finished.counts
        assert counts["selected"] <= QUOTA and counts["selected"] == simulation["selected"]
        _line(
            "decide, whole run",
            f"{decide_s:8.1f} s   ratio {decide_s / baseline:.2f} to the baseline (targets <= 60 s, <= 3.0)",
        )
        # The same bytes the run wrote, written bare: a copy of its decisions and of its outbox rows.
        await _sql(db, "CREATE TABLE outbox_floor (LIKE outbox INCLUDING ALL)")
        await _sql(db, "CREATE TABLE decisions_floor (LIKE decisions INCLUDING ALL)")
        await _checkpoint(db)
        floor = await _sql(db, "INSERT INTO decisions_floor SELECT * FROM decisions")
        floor += await _sql(db, "INSERT INTO outbox_floor SELECT * FROM outbox")
        await _sql(db, "DROP TABLE outbox_floor, decisions_floor")
        _line(
            "floor: its rows copied bare (decisions, outbox)",
            f"{floor:8.1f} s   ratio {decide_s / floor:.2f} (the run's overhead over writing its own rows)",
        )
        _line(
            "  result",
            f"{counts['selected']:,} selected of {counts['applications']:,} ({counts['eligible']:,} eligible), "
            f"{outbox_rows:,} outbox rows; kk_quota_reached {counts['reasons'].get('kk_quota_reached', 0):,}",
        )

        broker = await asyncio.to_thread(start_broker)
        relay_settings = SelectionSettings(
            database_url=url, kafka_bootstrap_servers=broker.bootstrap, relay_batch_size=20_000
        )
        relay = OutboxRelay(db, messaging.outbox, relay_settings)
        started = time.perf_counter()
        published = await relay.drain()
        relay_s = time.perf_counter() - started
        await relay.close()
        _line(
            "relay to the broker (Tansu), batch 20,000",
            f"{published / relay_s:8.0f} events/s   ({published:,} in {relay_s:.1f} s; target >= 10,000/s)",
        )
    finally:
        if broker is not None:
            broker.stop()
        await db.dispose()
        await _drop(url)
