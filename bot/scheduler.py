"""The scheduler service: jobs are database rows; APScheduler 3 computes fire times and wakes us.

* Every job is a row in ``scheduled_jobs`` (the source of truth) and is rebuilt at start.
* Fire times come from APScheduler triggers (cron in the group's IANA timezone, date, interval).
* Before a job runs, its row is moved past the fire time with a compare-and-set, and in the same
  transaction the run is leased to this worker (``storage.leases``): no two claims of one run can
  both win. The lease is dropped only when the run has completed.
* A lease still open at start is a run a crash cut short. When its fire time is within ``grace``
  and its kind was registered ``rerun=True``, it runs again (its handler must then be safe to run
  twice: a post checks the message id recorded with the lease, see ``record_sent``); otherwise it
  is given up and logged, as before (at most once).
* A run missed while the bot was down is made up when at most ``grace`` late, else skipped and
  logged.
* Several workers may share one PostgreSQL database (``docs/scale-out.md``). Each has its own
  name and holds a PostgreSQL advisory lock while it lives (``storage.workers``); the claim above
  is what makes a run fire once between them. Every ``run_due`` (and, under the system clock, a
  poll every ``SYNC_INTERVAL``) first reads the due rows, so jobs another worker planned or moved
  are seen, and takes over the leases of workers that died (their lock is gone) or stopped renewing
  (``lease_until`` passed, at most ``LEASE_TTL`` after the claim or the last renewal).
* Under a virtual clock, ``run_due`` fires every due job in time order (then job id), moving
  the clock to each fire time (and flushing batches an interval after input or a job), so
  scripted runs are deterministic. Under the system clock an ``AsyncIOScheduler`` wakes us.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot import metrics
from bot.batcher import Batcher
from bot.clock import Clock, VirtualClock
from bot.triggers import (
    At,
    Cron,
    Every,
    Trigger,
    aps_trigger,
    next_fire,
    trigger_from_dict,
    trigger_to_dict,
)
from storage.models import Job, Lease

if TYPE_CHECKING:
    from storage import JobRepo, LeaseRepo
    from storage.workers import WorkerPresence

log = logging.getLogger(__name__)

#: The triggers live in ``bot.triggers``; they are re-exported here, where jobs are scheduled.
__all__ = [
    "At",
    "Cron",
    "Every",
    "JobContext",
    "JobHandler",
    "Scheduler",
    "Trigger",
    "aps_trigger",
    "next_fire",
    "trigger_from_dict",
    "trigger_to_dict",
]


class JobContext(Protocol):
    """What the scheduler needs of the object it hands to job handlers (``Services``): the
    batcher it ticks as a virtual clock moves. Typed this way so the scheduler, a service
    itself, never imports the services bag that holds it."""

    @property
    def batcher(self) -> Batcher:
        """The batched writes that follow the clock."""
        ...


S = TypeVar("S", bound=JobContext)
#: A job kind's handler: ``(services, job, fire_time)``.
JobHandler = Callable[[S, Job, datetime], Awaitable[None]]
_WAKE_ID = "qunyou-wake"
#: The worker name leases are held under on SQLite, where one process runs per file (an OS lock
#: refuses a second): at start every lease of this name belongs to a dead predecessor and is taken
#: back at once. On PostgreSQL each worker has its own name (``bot.app``) and takes another's lease
#: when that worker's advisory lock is gone, or after ``lease_until``.
DEFAULT_OWNER = "main"
#: How long a claimed run is held before another worker may take it over although its holder is
#: still connected: the takeover bound for a hung worker. Renewed every third of it while a
#: handler runs under the system clock, so a slow run is not taken over.
LEASE_TTL = timedelta(seconds=30)
#: How often a worker sharing PostgreSQL looks for due rows and orphaned leases under the system
#: clock (its own jobs wake it exactly; this only bounds how late it sees another worker's).
SYNC_INTERVAL = 5.0


class Scheduler(Generic[S]):
    """Schedules feature jobs by stable id; see the module docstring for the guarantees."""

    def __init__(
        self,
        repo: JobRepo,
        leases: LeaseRepo,
        clock: Clock,
        grace: timedelta,
        *,
        owner: str = DEFAULT_OWNER,
        presence: WorkerPresence | None = None,
    ) -> None:
        self._repo = repo
        self._leases = leases
        self._clock = clock
        self.grace = grace
        self.owner = owner
        #: Set on PostgreSQL: other workers share the jobs, so rows are re-read and leases checked.
        self._presence = presence
        self._poll: asyncio.Task[None] | None = None
        self._handlers: dict[str, JobHandler[S]] = {}
        self._rerun: set[str] = set()
        #: Runs in hand, by (job id, fire time): what ``lease`` answers without a query.
        self._held: dict[tuple[str, datetime], Lease] = {}
        #: Runs a crash cut short, taken back at start and run before anything newer.
        self._recovered: list[Lease] = []
        self._next: dict[str, datetime] = {}
        self._heap: list[tuple[datetime, str]] = []
        self._services: S | None = None
        self._aps: AsyncIOScheduler | None = None
        self._running = False
        self._draining: asyncio.Task[None] | None = None
        self._wake_again = False
        self.fired = 0
        self.skipped = 0
        self.rerun = 0
        self.given_up = 0
        self.claimed = 0
        self.taken_over = 0

    # -- feature API -------------------------------------------------------------------
    def register(self, kind: str, handler: JobHandler[S], *, rerun: bool = False) -> None:
        """Say which function runs jobs of ``kind`` (in a feature's startup hook).

        ``rerun=True``: a run a crash cut short is run again at start (within the grace window), so
        the handler must be safe to run twice for one fire time; one that sends a message checks
        ``lease(...).message_id`` first and calls ``record_sent`` after the send. Without it such a
        run is given up: at most once, never twice.
        """
        self._handlers[kind] = handler
        if rerun:
            self._rerun.add(kind)
        else:
            self._rerun.discard(kind)

    def lease(self, job_id: str, fire_time: datetime) -> Lease | None:
        """The lease of the run in hand (``attempts`` > 1 on a re-run after a crash), else None."""
        return self._held.get((job_id, fire_time))

    async def record_sent(self, job_id: str, fire_time: datetime, message_id: str) -> None:
        """Remember, with the run's lease, the message it sent: a re-run then does not send it again.

        Call it right after the platform accepted the message. A crash between that acceptance and
        this commit is the one window left: the re-run cannot tell the message went out and sends it
        again (unless the platform itself deduplicates).
        """
        held = self._held.get((job_id, fire_time))
        if held is None:
            return
        await self._leases.record_sent(job_id, fire_time, held.owner, message_id)
        self._held[(job_id, fire_time)] = Lease(
            job_id=held.job_id,
            fire_at=held.fire_at,
            owner=held.owner,
            lease_until=held.lease_until,
            attempts=held.attempts,
            message_id=message_id,
        )

    async def schedule(
        self,
        job_id: str,
        kind: str,
        trigger: Trigger,
        payload: dict[str, Any] | None = None,
        group_id: int | None = None,
    ) -> datetime | None:
        """Create or replace job ``job_id``; returns its first fire time (None: never)."""
        now = self._clock.now()
        first = next_fire(trigger, now)
        await self._repo.put(
            job_id=job_id,
            kind=kind,
            group_id=group_id,
            trigger=trigger_to_dict(trigger),
            payload=payload or {},
            next_run_at=first,
            now=now,
        )
        self._index(job_id, first)
        return first

    async def cancel(self, job_id: str) -> bool:
        """Remove a job; True when it existed."""
        self._index(job_id, None)
        return await self._repo.delete(job_id)

    async def pause(self, job_id: str) -> bool:
        """Stop a job firing until resumed."""
        self._index(job_id, None)
        return await self._repo.set_paused(job_id, True, None)

    async def resume(self, job_id: str) -> datetime | None:
        """Let a paused job fire again from now on; returns its next fire time."""
        job = await self._repo.get(job_id)
        if job is None:
            return None
        first = next_fire(trigger_from_dict(job.trigger), self._clock.now())
        await self._repo.set_paused(job_id, False, first)
        self._index(job_id, first)
        return first

    async def get(self, job_id: str) -> Job | None:
        """One job row."""
        return await self._repo.get(job_id)

    async def list(self, prefix: str = "") -> list[Job]:
        """Job rows whose id starts with ``prefix``."""
        return await self._repo.list(prefix)

    def pending(self) -> int:
        """How many jobs will fire again."""
        return len(self._next)

    # -- lifecycle ---------------------------------------------------------------------
    async def start(self, services: S) -> None:
        """Rebuild the in-memory schedule from the job rows, then start waking."""
        self._services = services
        self._running = True
        now = self._clock.now()
        # Only ids and times at start: 100,000 jobs must be indexed within seconds, so the full row
        # (trigger, payload) is read only for a job that has to be skipped.
        for job_id, next_run_at in await self._repo.pending_index():
            if next_run_at <= now and now - next_run_at > self.grace:
                job = await self._repo.get(job_id)
                if job is not None:
                    await self._skip(job, now)
                continue
            self._next[job_id] = next_run_at
            self._heap.append((next_run_at, job_id))
        heapq.heapify(self._heap)
        await self._recover(now)
        if not self._clock.is_virtual:
            self._aps = AsyncIOScheduler(timezone=UTC)
            self._aps.start()
            self._arm()
            if self._recovered:
                self._draining = asyncio.get_running_loop().create_task(self._drain())
            if self._presence is not None:
                self._poll = asyncio.get_running_loop().create_task(self._poll_shared())

    async def stop(self) -> None:
        """Stop waking; rows stay for the next start."""
        self._running = False
        if self._poll is not None:
            self._poll.cancel()
            await asyncio.gather(self._poll, return_exceptions=True)
            self._poll = None
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None
        if self._draining is not None and not self._draining.done():
            # Let the job in hand finish (the loop stops after it) before the database closes.
            await self._draining
        self._next.clear()
        self._heap.clear()
        self._recovered.clear()

    async def run_due(self, until: datetime, *, catch_up: timedelta | None = None) -> int:
        """Fire every job due at or before ``until`` in time order; returns how many ran. Runs
        recovered at start, or taken over from a dead worker, go first: their fire times are past.

        With ``catch_up`` (a virtual clock's long jump), recurring jobs run only through the last
        ``catch_up`` before ``until``: before that the bot is idle, as if it had been down, and a
        recurring job due there is moved in one step to its first run after ``until - catch_up -
        grace``, logged once. So a daily post jumped over ten years runs on the last ``catch_up``
        days only. One-shot jobs (a mute's end, a reminder) each run once, in order.
        """
        ran = 0
        idle_until = until - catch_up if catch_up is not None else None
        synced: float | None = None
        flush_due = self._batch_due()  # what the input before this run batched
        while self._running:
            # Sharing PostgreSQL: look at the rows again now and then (wall time) even inside one
            # long run, so a dead worker's run is taken over while this one is busy with its own.
            if self._presence is not None and (synced is None or time.monotonic() - synced >= SYNC_INTERVAL):
                await self._sync(until)
                synced = time.monotonic()
            if self._recovered and self._recovered[0].fire_at <= until:
                lease = self._recovered.pop(0)
                if isinstance(self._clock, VirtualClock) and lease.fire_at > self._clock.now():
                    self._clock.set(lease.fire_at)  # never before its time, even when made up
                if await self._rerun_lease(lease):
                    ran += 1
                continue
            head = self._peek()
            if flush_due is not None and flush_due <= min(until, head[0] if head else until):
                await self._flush_batches(flush_due)
                flush_due = None
                continue
            if head is None or head[0] > until:
                break
            at, job_id = heapq.heappop(self._heap)
            self._next.pop(job_id, None)
            if isinstance(self._clock, VirtualClock):
                self._clock.set(at)
            await self._time_passed()
            if (
                idle_until is not None
                and at < idle_until - self.grace
                and await self._resume_after(job_id, at, idle_until - self.grace)
            ):
                continue
            if await self._fire(job_id, at):
                ran += 1
            flush_due = self._batch_due()
        if isinstance(self._clock, VirtualClock):
            self._clock.set(until)
        await self._time_passed()
        return ran

    def _batch_due(self) -> datetime | None:
        """When what was batched by now (input, a job) falls due under a clock moved by hand."""
        if self._services is None or self._clock.moves_on_its_own:
            return None
        return self._clock.now() + timedelta(seconds=self._services.batcher.interval)

    async def _flush_batches(self, at: datetime) -> None:
        if isinstance(self._clock, VirtualClock) and self._services is not None:
            self._clock.set(at)
            await self._services.batcher.flush_at(at)

    async def _time_passed(self) -> None:
        """Let batched writes and announcements follow a clock that moves only when told: they
        go out as its time passes, between the jobs, as they would have in real time."""
        if self._services is not None and not self._clock.moves_on_its_own:
            await self._services.batcher.tick(self._clock.now())

    # -- internals ---------------------------------------------------------------------
    def _index(self, job_id: str, at: datetime | None) -> None:
        if at is None:
            self._next.pop(job_id, None)
        else:
            self._next[job_id] = at
            heapq.heappush(self._heap, (at, job_id))
        self._arm()

    def _peek(self) -> tuple[datetime, str] | None:
        while self._heap:
            at, job_id = self._heap[0]
            if self._next.get(job_id) == at:
                return at, job_id
            heapq.heappop(self._heap)
        return None

    def _arm(self) -> None:
        if self._aps is None:
            return
        head = self._peek()
        if head is None:
            if self._aps.get_job(_WAKE_ID):
                self._aps.remove_job(_WAKE_ID)
            return
        self._aps.add_job(
            self._wake,
            "date",
            run_date=head[0],
            id=_WAKE_ID,
            replace_existing=True,
            misfire_grace_time=None,
        )

    async def _wake(self) -> None:
        # Hand the work to a task and return at once. While this wake-up runs, firing a job re-arms
        # the wake job under the same id; APScheduler (max_instances=1) would skip that new wake-up
        # as "still running" and nothing would arm it again, so due jobs waited for the next
        # schedule() call (measured: 1 of 100 probes fired under 1,000 messages/s).
        if self._draining is not None and not self._draining.done():
            self._wake_again = True
            return
        self._draining = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        while True:
            self._wake_again = False
            await self.run_due(self._clock.now())
            if not self._wake_again or not self._running:
                break
        self._arm()

    async def _skip(self, job: Job, now: datetime) -> None:
        trigger = trigger_from_dict(job.trigger)
        following = next_fire(trigger, now)
        log.warning(
            "job %s (%s) missed its run at %s by more than %s; skipped",
            job.id,
            job.kind,
            job.next_run_at,
            self.grace,
        )
        self.skipped += 1
        await self._repo.set_next(job.id, following)
        self._index(job.id, following)

    async def _resume_after(self, job_id: str, expected: datetime, after: datetime) -> bool:
        """Move a recurring job due at ``expected`` to its first run after ``after``, without
        running it; False (nothing done) for a one-shot job, which then runs as usual."""
        job = await self._repo.get(job_id)
        if job is None or job.paused or job.next_run_at != expected:
            return True  # cancelled, paused or moved since it was indexed: nothing to run
        trigger = trigger_from_dict(job.trigger)
        if isinstance(trigger, At):
            return False
        following = next_fire(trigger, after)
        log.info("job %s (%s): runs from %s to %s skipped (idle)", job_id, job.kind, expected, after)
        self.skipped += 1
        await self._repo.set_next(job_id, following)
        self._index(job_id, following)
        return True

    async def _fire(self, job_id: str, expected: datetime) -> bool:
        job = await self._repo.get(job_id)
        if job is None or job.paused or job.next_run_at != expected:
            # Cancelled, paused or moved since it was indexed: a stale wake-up. When workers share
            # the rows, "moved" is mostly another worker having claimed this run: follow the row.
            if self._presence is not None and job is not None and not job.paused and job.next_run_at:
                if job.next_run_at > expected:
                    self._index(job_id, job.next_run_at)
            return False
        now = self._clock.now()
        if now - expected > self.grace:
            await self._skip(job, now)
            return False
        trigger = trigger_from_dict(job.trigger)
        following = next_fire(trigger, expected, previous=expected)
        if following is not None and following <= now:
            # Late (within grace): runs missed meanwhile coalesce into this one rather than
            # firing back to back; asked from now in one step, not walked one by one.
            following = next_fire(trigger, now)
        lease = await self._leases.claim(
            job_id, expected, following, owner=self.owner, now=now, lease_until=now + LEASE_TTL
        )
        if lease is None:
            if self._presence is not None:
                fresh = await self._repo.get(job_id)
                if fresh is not None and not fresh.paused and fresh.next_run_at is not None:
                    if fresh.next_run_at > expected:
                        self._index(job_id, fresh.next_run_at)
            return False
        self.claimed += 1
        metrics.JOBS_CLAIMED.labels(worker=self.owner).inc()
        metrics.SCHEDULER_LAG.observe(max(0.0, (now - expected).total_seconds()))
        self._index(job_id, following)
        return await self._run(job, lease)

    async def _run(self, job: Job, lease: Lease) -> bool:
        """Run one leased fire of ``job``; the lease is dropped once the handler has returned.

        A handler that raises has still run (its error is logged; retrying it would likely fail the
        same way), so its lease is dropped too. Only a run that never returns, because the process
        died or the task was cancelled at shutdown, leaves its lease for the next start.
        """
        handler = self._handlers.get(job.kind)
        if handler is None:
            log.error("no handler for job kind %s (job %s)", job.kind, job.id)
            await self._leases.complete(job.id, lease.fire_at, lease.owner)
            return False
        assert self._services is not None
        key = (job.id, lease.fire_at)
        self._held[key] = lease
        renew = None
        if self._presence is not None and self._clock.moves_on_its_own:
            renew = asyncio.get_running_loop().create_task(self._renew(lease))
        try:
            await handler(self._services, job, lease.fire_at)
        except Exception:
            log.exception("job %s (%s) failed", job.id, job.kind)
            metrics.ERRORS.labels(handler=f"job:{job.kind}").inc()
        finally:
            held = self._held.pop(key, lease)
            if renew is not None:
                renew.cancel()
        await self._leases.complete(job.id, lease.fire_at, held.owner)
        self.fired += 1
        return True

    async def _recover(self, now: datetime) -> None:
        """Take back the runs a crash cut short (open leases) and decide which run again."""
        self._recovered = []
        await self._adopt(await self._leases.open(), now)

    async def _adopt(self, leases: Sequence[Lease], now: datetime) -> None:
        """Take over those of ``leases`` whose holder is gone (or ours from before a restart)."""
        live: set[str] = set()
        if self._presence is not None:
            live = await self._presence.alive({lease.owner for lease in leases} - {self.owner})
        for lease in leases:
            if (
                lease.owner != self.owner
                and lease.lease_until > now
                and (self._presence is None or lease.owner in live)
            ):
                continue  # another worker's live run: not ours to touch
            if lease.owner != self.owner:
                self.taken_over += 1
                log.warning(
                    "taking over job %s at %s from worker %s (%s)",
                    lease.job_id,
                    lease.fire_at,
                    lease.owner,
                    "gone" if lease.owner not in live else "lease expired",
                )
            job = await self._repo.get(lease.job_id)
            late = now - lease.fire_at
            if job is None or job.kind not in self._rerun or late > self.grace:
                reason = (
                    "its job is gone"
                    if job is None
                    else "its kind is not safe to run twice"
                    if job.kind not in self._rerun
                    else f"it is more than {self.grace} late"
                )
                log.warning(
                    "run of job %s at %s was cut short (attempt %d) and is given up: %s",
                    lease.job_id,
                    lease.fire_at,
                    lease.attempts,
                    reason,
                )
                self.given_up += 1
                # Only while still the dead holder's: another worker may have adopted it meanwhile.
                await self._leases.complete(lease.job_id, lease.fire_at, lease.owner)
                continue
            taken = await self._leases.take_over(lease, owner=self.owner, lease_until=now + LEASE_TTL)
            if taken is not None:
                self._recovered.append(taken)

    async def _sync(self, until: datetime) -> None:
        """Learn the due rows other workers planned or moved, and adopt orphaned leases."""
        for job_id, at in await self._repo.due_index(until):
            if self._next.get(job_id) != at:
                self._index(job_id, at)
        now = self._clock.now()
        held = {(lease.job_id, lease.fire_at) for lease in self._recovered} | set(self._held)
        orphans = [
            lease
            for lease in await self._leases.open()
            if lease.owner != self.owner and (lease.job_id, lease.fire_at) not in held
        ]
        if orphans:
            await self._adopt(orphans, now)
            self._recovered.sort(key=lambda lease: (lease.fire_at, lease.job_id))

    async def _poll_shared(self) -> None:
        """Under the system clock, wake every ``SYNC_INTERVAL`` to see other workers' rows."""
        while self._running:
            await asyncio.sleep(SYNC_INTERVAL)
            try:
                await self._wake()
            except Exception:  # the database away for a moment: try again next time
                log.exception("scheduler poll failed")

    async def _renew(self, lease: Lease) -> None:
        """Keep a long run's lease from expiring under the hands of other workers."""
        while True:
            await asyncio.sleep(LEASE_TTL.total_seconds() / 3)
            try:
                await self._leases.renew(
                    lease.job_id, lease.fire_at, lease.owner, self._clock.now() + LEASE_TTL
                )
            except Exception:
                log.exception("renewing the lease of job %s failed", lease.job_id)

    async def _rerun_lease(self, lease: Lease) -> bool:
        job = await self._repo.get(lease.job_id)
        if job is None:
            await self._leases.complete(lease.job_id, lease.fire_at, lease.owner)
            return False
        log.warning(
            "job %s (%s): re-running its run at %s, cut short by a crash (attempt %d)",
            job.id,
            job.kind,
            lease.fire_at,
            lease.attempts,
        )
        self.rerun += 1
        return await self._run(job, lease)
