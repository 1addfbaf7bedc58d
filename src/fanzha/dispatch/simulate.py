"""The dispatch replay simulator (调度回放): a day or more of warnings replayed against a roster under a policy, giving
the time from 预警时间 to first contact per grade. A discrete-event simulation (heapq) with no database inside
`simulate`; the files and the platform's own records come in through dispatch/replay_inputs.py.

Semantics (docs/dispatch.md says the same):

- **Policies.** `fifo` is today's practice: each station's on-duty dissuaders take that station's waiting work in
  order of arrival (`policy.fifo_key`), and nobody helps another station. `ours` is the platform's policy: a free
  dissuader takes `policy.pick` of their own station's waiting work (the same code as the live 我的任务); when their
  own station has nothing waiting they may take the first contact of a waiting job of a sibling station (same group,
  e.g. the same 分局) for which `policy.may_help` holds and whose station has no free dissuader, chosen among those
  with `policy.key`. The 见面 of a helped warning is queued back at the person's own station. With
  `handling.low_sms_first_contact` a low-grade warning's first contact is an automatic SMS sent `sms` minutes
  (exponential draw) after arrival; it needs no dissuader and is counted in `sms`.
- **Handling.** A first-contact attempt takes exp(call_attempt) minutes; the first contact is recorded when the
  attempt is made, so the first contact time is the end of the first attempt, reached or not. With probability
  reach_rate the attempt reaches the person and the call goes on for exp(reached_call); otherwise the warning waits
  retry_minutes and is queued for another attempt, at most max_attempts in all (after that nothing more is done). A
  warning with `face` and a reached person then needs a 见面 of exp(face) minutes by a dissuader of its own station.
  Each warning draws from its own generator, `random.Random(f"{seed}:{id}")`, in a fixed order, so both policies see
  the same draws for the same warning and the comparison is fair. `deterministic=True` replaces every draw by its
  mean and every reach by success when reach_rate is 1 (for hand-worked cases).
- **The queue's view of a warning** is the live one (dissuasion/urgency.py): before any attempt its next step is 签收
  with the sign deadline and nobody has it in hand; after an unanswered attempt it is signed with the first-contact
  deadline as its due; a 见面 waiting is signed, with the 见面 deadline. Deadlines come from triage (研判规则).
- **Shifts** are local times (tz) repeated every day; one whose end is at or before its start crosses midnight (equal
  times: all day). A dissuader starts work only within a shift; work in hand at the shift's end is finished.
- **Horizon.** The run starts at the first arrival and ends 24 h after the last; a warning never contacted by then is
  unreached and counts as +inf minutes in every percentile.
- **Figures** per grade: n; p50/p90/p95 by nearest rank (the ⌈p·n⌉-th smallest, so an unreached warning can make a
  percentile inf, never better); in_time, the share first contacted at or before its first-contact deadline (None
  for an empty grade); unreached. Utilisation per (station, dissuader): busy minutes (attempts, calls, 见面, within
  the horizon) over on-shift minutes within the horizon. `helped`: attempts made by a sibling station's dissuader.
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fanzha.dispatch.policy import POLICIES, Job, Rules, current_rules, may_help, pick

GRADES = ("high", "medium", "low")
HORIZON = timedelta(hours=24)


@dataclass(frozen=True)
class SimWarning:
    id: str  # 预警编号
    warned_at: datetime  # aware, UTC
    grade: str  # high / medium / low
    kind: str
    station: str  # the station's code (派出所代码)
    amount: float | None = None
    face: bool = False  # 见面 required (triage's face_to_face rule)
    contact_due: datetime | None = None  # first-contact deadline; None: from the triage deadlines


@dataclass(frozen=True)
class Shift:
    station: str
    dissuader: str
    start: time  # local, daily
    end: time  # at or before start: crosses midnight


@dataclass
class GradeFigures:
    n: int
    p50: float  # minutes from 预警时间 to first contact; math.inf when it lands on an unreached warning
    p90: float
    p95: float
    in_time: float | None
    unreached: int


@dataclass
class Result:
    policy: str
    by_grade: dict[str, GradeFigures]
    utilisation: dict[tuple[str, str], float]
    helped: int
    sms: int
    warnings: int
    start: datetime
    end: datetime

    def as_dict(self) -> dict:
        """JSON-safe: an infinite percentile is null (unreached), times in ISO 8601."""
        def num(x):
            return None if x is None or math.isinf(x) or math.isnan(x) else round(x, 1)

        return {
            "policy": self.policy, "warnings": self.warnings, "helped": self.helped, "sms": self.sms,
            "start": self.start.isoformat(), "end": self.end.isoformat(),
            "by_grade": {g: {"n": f.n, "p50": num(f.p50), "p90": num(f.p90), "p95": num(f.p95),
                             "in_time": None if f.in_time is None else round(f.in_time, 4), "unreached": f.unreached}
                         for g, f in self.by_grade.items()},
            "utilisation": [{"station": s, "dissuader": d, "utilisation": round(u, 4)}
                            for (s, d), u in sorted(self.utilisation.items())],
        }


@dataclass(frozen=True)
class Draws:
    """One warning's random handling times, drawn once so every policy sees the same ones."""

    attempts: tuple[tuple[float, bool, float], ...]  # (attempt minutes, reached, reached call minutes)
    face: float
    sms: float


def draws_for(w: SimWarning, seed: int, rules: Rules, deterministic: bool = False) -> Draws:
    h = rules.handling
    if deterministic:
        reached = h.reach_rate >= 1
        return Draws(((h.call_attempt, reached, h.reached_call),) * h.max_attempts, h.face, h.sms)
    rng = random.Random(f"{seed}:{w.id}")

    def exp(mean: float) -> float:
        return rng.expovariate(1 / mean) if mean > 0 else 0.0

    attempts = tuple((exp(h.call_attempt), rng.random() < h.reach_rate, exp(h.reached_call))
                     for _ in range(h.max_attempts))
    return Draws(attempts, exp(h.face), exp(h.sms))


@dataclass(eq=False)
class Case:
    """One warning in the replay: where it stands and how the policy sees it."""

    w: SimWarning
    number: int  # arrival order, the Job id (a later warning has a larger one, as in the database)
    sign_due: datetime
    contact_due: datetime
    face_due: datetime | None
    draws: Draws | None = None
    step: str = "contact"  # contact, face
    attempts: int = 0
    first_contact: datetime | None = None
    job: Job = field(init=False)

    def __post_init__(self):
        self.refresh()

    @classmethod
    def of(cls, w: SimWarning, number: int, triage_rules=None) -> Case:
        from fanzha.warnings import triage

        d = triage.deadlines(w.grade, w.warned_at, w.face, None, triage_rules)
        return cls(w, number, d.sign, w.contact_due or d.contact, d.face)

    def refresh(self) -> None:
        """The policy's Job for the next step (dissuasion.urgency.job_of's view of the same warning)."""
        w = self.w
        if self.step == "face":
            due, signed = self.face_due, True
        elif self.attempts:
            due, signed = self.contact_due, True
        else:
            due, signed = self.sign_due, False
        self.job = Job(id=self.number, grade=w.grade, warned_at=w.warned_at, due=due, amount=w.amount,
                       face=w.face, signed=signed)


def choose(cases, now: datetime, rules: Rules, policy_name: str = "ours") -> Case | None:
    """The case a free dissuader takes next among `cases` (a list, or number → case): policy.pick on their jobs."""
    by_number = cases if isinstance(cases, dict) else {c.number: c for c in cases}
    job = pick((c.job for c in by_number.values()), now, rules, policy_name)
    return None if job is None else by_number[job.id]


def shift_intervals(shifts: list[Shift], first: date, last: date, tz: ZoneInfo) -> dict[tuple[str, str], list]:
    """Each dissuader's shifts as merged UTC intervals over the local days first-1 … last."""
    raw: dict[tuple[str, str], list] = {}
    day = first - timedelta(days=1)
    while day <= last:
        for s in shifts:
            start = datetime.combine(day, s.start, tz)
            end = datetime.combine(day if s.end > s.start else day + timedelta(days=1), s.end, tz)
            raw.setdefault((s.station, s.dissuader), []).append((start, end))
        day += timedelta(days=1)
    out = {}
    for who, spans in raw.items():
        spans.sort()
        merged: list[list] = []
        for a, b in spans:
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        out[who] = [(a, b) for a, b in merged]
    return out


def nearest_rank(values: list[float], p: float) -> float:
    """The ⌈p/100·n⌉-th smallest value (nearest rank); nan for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


def figures(cases: list[Case]) -> dict[str, GradeFigures]:
    out = {}
    for grade in GRADES:
        mine = [c for c in cases if c.w.grade == grade]
        minutes = [(c.first_contact - c.w.warned_at).total_seconds() / 60 if c.first_contact else math.inf
                   for c in mine]
        timely = sum(1 for c in mine if c.first_contact is not None and c.first_contact <= c.contact_due)
        out[grade] = GradeFigures(n=len(mine), p50=nearest_rank(minutes, 50), p90=nearest_rank(minutes, 90),
                                  p95=nearest_rank(minutes, 95), in_time=timely / len(mine) if mine else None,
                                  unreached=sum(1 for c in mine if c.first_contact is None))
    return out


# Event kinds, in the order they are handled when they fall at the same moment.
_ON, _DONE, _OFF, _SMS, _ARRIVE, _READY, _WAKE = range(7)


def simulate(warnings, shifts, *, policy: str = "ours", seed: int = 0, rules: Rules | None = None,
             siblings: dict[str, str] | None = None, tz: str = "Asia/Shanghai", deterministic: bool = False) -> Result:
    """Replays `warnings` against `shifts` under `policy` (fifo or ours); `siblings`: station → group key (its 分局),
    help only within a group, None: no help. The module's docstring gives the rules."""
    if policy not in POLICIES:
        raise ValueError(f"未知的调度策略：{policy}（应为 {'、'.join(POLICIES)}）")
    rules = rules or current_rules()
    h = rules.handling
    zone = ZoneInfo(tz)
    ours = policy == "ours"
    helping = ours and siblings is not None
    sms_first = ours and h.low_sms_first_contact
    ordered = sorted(warnings, key=lambda w: (w.warned_at, w.id))
    cases = [Case.of(w, i + 1) for i, w in enumerate(ordered)]
    for c in cases:
        c.draws = draws_for(c.w, seed, rules, deterministic)
    if not cases:
        now = datetime.now().astimezone()
        return Result(policy, figures([]), {}, 0, 0, 0, now, now)
    start = ordered[0].warned_at
    end = ordered[-1].warned_at + HORIZON
    horizon = end

    events: list = []
    seq = 0

    def push(at: datetime, kind: int, payload) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (at, kind, seq, payload))

    intervals = shift_intervals(list(shifts), start.astimezone(zone).date(), end.astimezone(zone).date(), zone)
    on_shift: dict[tuple[str, str], float] = {}
    for who, spans in intervals.items():
        total = 0.0
        for a, b in spans:
            a, b = max(a, start), min(b, end)
            if a < b:
                total += (b - a).total_seconds() / 60
        on_shift[who] = total
        for a, b in spans:
            if b > start and a < end:
                push(max(a, start), _ON, who)
                push(b, _OFF, who)
    for c in cases:
        push(c.w.warned_at, _ARRIVE, c)

    queues: dict[str, dict[int, Case]] = {}  # station → waiting cases
    on_duty: set[tuple[str, str]] = set()
    busy: set[tuple[str, str]] = set()
    free_since: dict[tuple[str, str], datetime] = {}
    busy_minutes: dict[tuple[str, str], float] = dict.fromkeys(intervals, 0.0)
    groups: dict[str, list[str]] = {}
    if helping:
        for station, group in siblings.items():
            groups.setdefault(group, []).append(station)
    helped = sms = 0

    def enqueue(c: Case) -> None:
        c.refresh()
        queues.setdefault(c.w.station, {})[c.number] = c

    def begin(d: tuple[str, str], c: Case, now: datetime) -> None:
        nonlocal helped
        del queues[c.w.station][c.number]
        if d[0] != c.w.station:
            helped += 1
        if c.step == "contact":
            minutes, reached, call = c.draws.attempts[c.attempts]
            c.attempts += 1
            if c.first_contact is None:
                c.first_contact = now + timedelta(minutes=minutes)
            outcome = "reached" if reached else "missed"
            length = minutes + (call if reached else 0)
        else:
            outcome, length = "seen", c.draws.face
        done = now + timedelta(minutes=length)
        busy_minutes[d] = busy_minutes.get(d, 0.0) + max(0.0, (min(done, horizon) - now).total_seconds() / 60)
        busy.add(d)
        push(done, _DONE, (d, c, outcome))

    def dispatch(now: datetime) -> None:
        free_by_station: dict[str, list[tuple[str, str]]] = {}
        for d in on_duty:
            if d not in busy:
                free_by_station.setdefault(d[0], []).append(d)
        for station, free in free_by_station.items():
            queue = queues.get(station)
            free.sort(key=lambda d: (free_since.get(d, start), d))
            while free and queue:
                c = choose(queue, now, rules, policy)
                begin(free.pop(0), c, now)
        if not helping:
            return
        for stations in groups.values():
            helpers = [d for s in stations for d in free_by_station.get(s, []) if d not in busy]
            if not helpers:
                continue
            # a station with work still waiting has nobody free (its free dissuaders took work above)
            wanting = {c.number: c for s in stations for c in queues.get(s, {}).values()
                       if c.step == "contact" and may_help(c.job, now, rules)}
            helpers.sort(key=lambda d: (free_since.get(d, start), d))
            while helpers and wanting:
                c = choose(wanting, now, rules, "ours")
                del wanting[c.number]
                begin(helpers.pop(0), c, now)

    while events:
        now = events[0][0]
        if now > end:
            break
        while events and events[0][0] == now:
            _, kind, _, payload = heapq.heappop(events)
            if kind == _ON:
                on_duty.add(payload)
                free_since.setdefault(payload, now)
            elif kind == _OFF:
                on_duty.discard(payload)
            elif kind == _DONE:
                d, c, outcome = payload
                busy.discard(d)
                free_since[d] = now
                if outcome == "reached" and c.w.face:
                    c.step = "face"
                    enqueue(c)
                elif outcome == "missed" and c.attempts < h.max_attempts:
                    push(now + timedelta(minutes=h.retry_minutes), _READY, c)
            elif kind == _ARRIVE:
                c = payload
                if sms_first and c.w.grade == "low":
                    push(now + timedelta(minutes=c.draws.sms), _SMS, c)
                    continue
                enqueue(c)
                if helping and c.w.grade in rules.help_grades:
                    push(now + rules.help_after, _WAKE, None)
            elif kind == _READY:
                enqueue(payload)
            elif kind == _SMS:
                c = payload
                sms += 1
                c.first_contact = now
                if c.w.face:
                    c.step = "face"
                    enqueue(c)
        dispatch(now)

    utilisation = {who: (busy_minutes.get(who, 0.0) / total if total else 0.0) for who, total in on_shift.items()}
    return Result(policy=policy, by_grade=figures(cases), utilisation=utilisation, helped=helped, sms=sms,
                  warnings=len(cases), start=start, end=end)


# The inputs live in dispatch/replay_inputs.py (it imports this module's types); these are the simulator's names.
def read_warnings(path, session=None) -> list[SimWarning]:
    """A warnings file (CSV UTF-8/GBK or XLSX, provincial headers) → SimWarnings; replay_inputs.read_warnings."""
    from fanzha.dispatch import replay_inputs

    return replay_inputs.read_warnings(path, session)


def read_staff(path) -> list[Shift]:
    """A roster file (派出所, 劝阻员, 上班, 下班) → Shifts; replay_inputs.read_staff."""
    from fanzha.dispatch import replay_inputs

    return replay_inputs.read_staff(path)


def from_database(session, *, since: datetime, until: datetime,
                  roster_day: date) -> tuple[list[SimWarning], list[Shift], dict[str, str]]:
    """Last week's real warnings, a day's roster and the stations' 分局; replay_inputs.from_database."""
    from fanzha.dispatch import replay_inputs

    return replay_inputs.from_database(session, since=since, until=until, roster_day=roster_day)
