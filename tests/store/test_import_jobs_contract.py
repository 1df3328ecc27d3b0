"""Import jobs left behind by a crash, in the store: the sweep lists the unfinished ones, and
one claimant at a time runs a job, under a lease that another may take once it has run out."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta

from app.domain.clock import format_time
from app.domain.imports import ImportJob, ImportState
from app.store.base import Store
from tests.store.test_import_files_contract import a_job

START = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> str:
    return format_time(START + timedelta(seconds=seconds))


async def a_job_in(store: Store, state: ImportState) -> ImportJob:
    job = dataclasses.replace(await a_job(store), state=state)
    await store.save_import_job(job)
    return job


async def test_one_claimant_wins_and_an_expired_lease_is_claimed_again(store: Store) -> None:
    job = await a_job_in(store, ImportState.QUEUED)

    # Two instances at once: one gets the job, running under its lease; the other nothing.
    claims = await asyncio.gather(*(store.claim_import_job(job.id, at(30), at(0)) for _ in range(2)))
    won = [claim for claim in claims if claim is not None]
    assert len(won) == 1 and claims.count(None) == 1
    assert (won[0].state, won[0].lease_until) == (ImportState.RUNNING, at(30))
    assert await store.get_import_job(job.id) == won[0]

    # Held until its lease runs out, even by a sweep that comes back just before.
    assert await store.claim_import_job(job.id, at(59), at(29)) is None
    assert await store.get_import_job(job.id) == won[0]

    # Its claimant crashed: past the lease, the job is taken over, still running, under a new lease.
    again = await store.claim_import_job(job.id, at(61), at(31))
    assert again is not None and (again.state, again.lease_until) == (ImportState.RUNNING, at(61))
    assert await store.claim_import_job(job.id, at(90), at(60)) is None


async def test_only_queued_and_running_jobs_are_claimed_and_listed_as_unfinished(store: Store) -> None:
    assert await store.list_unfinished_import_jobs() == []
    jobs = {state: await a_job_in(store, state) for state in ImportState}
    running = dataclasses.replace(jobs[ImportState.RUNNING], lease_until=at(30))
    await store.save_import_job(running)

    unfinished = await store.list_unfinished_import_jobs()
    assert unfinished == sorted([jobs[ImportState.QUEUED], running], key=lambda job: job.id)  # in id order
    for state in (ImportState.UPLOADING, ImportState.DONE, ImportState.FAILED):
        assert await store.claim_import_job(jobs[state].id, at(30), at(0)) is None
        assert await store.get_import_job(jobs[state].id) == jobs[state]
    assert await store.claim_import_job("no-such-job", at(30), at(0)) is None

    # A job that ends leaves the list.
    await store.save_import_job(dataclasses.replace(running, state=ImportState.DONE, lease_until=None))
    assert [job.id for job in await store.list_unfinished_import_jobs()] == [jobs[ImportState.QUEUED].id]
