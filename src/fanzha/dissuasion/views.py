"""Dissuasion pages: my tasks (built for a phone), the actions on a warning, notifications, evidence photos."""

from __future__ import annotations

import re
from decimal import Decimal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from fanzha.audit import service as audit
from fanzha.common.errors import DomainError, Invalid, NotFound
from fanzha.common.money import parse_money
from fanzha.common.photos import serve_stored
from fanzha.db import utcnow
from fanzha.dissuasion import board, holders, offline, service, urgency
from fanzha.dissuasion import help as cross_help
from fanzha.dissuasion.enums import (
    CHANNELS,
    CHECKLIST,
    FACE_CHANNELS,
    NO_ANSWER_REASONS,
    RESULTS,
    SUCCESS_KINDS,
    TARGETS,
)
from fanzha.dissuasion.followups import service as follow_ups
from fanzha.dissuasion.models import Contact, FamilyContact, FollowUp
from fanzha.notify import service as notify
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.warnings import open_set
from fanzha.warnings import views as warning_pages
from fanzha.warnings.enums import OUTCOMES
from fanzha.warnings.models import Warning, WarningHelp
from fanzha.warnings.service import Filters, helping_only, reachable, visible
from fanzha.warnings.views import detail_asking, detail_dialling, detail_with_error
from fanzha.web.deps import Db, csrf_protect, current_scope, require
from fanzha.web.params import IdForm, IdPath
from fanzha.web.render import env, render

router = APIRouter()
_WARNING_LINK = re.compile(r"/warnings/(\d+)")
env.globals.update(NO_ANSWER_REASONS=NO_ANSWER_REASONS, TARGETS=TARGETS, SUCCESS_KINDS=SUCCESS_KINDS)
env.globals.update(CHANNELS=CHANNELS, RESULTS=RESULTS, OUTCOMES=OUTCOMES, CHECKLIST=CHECKLIST,
                   FACE_CHANNELS=FACE_CHANNELS, EVIDENCE_KINDS=service.EVIDENCE_KINDS)
# The warning page's sticky bar asks for the next step itself: 拨打 just done (the page's `dial`) makes it 登记联系.
env.globals["next_step_of"] = service.next_step


@warning_pages.add_metrics_part
def _helped(db, scope: Scope, area, since, until) -> dict:
    """The metrics page's 跨所协助 counts both ways (help.helped_counts)."""
    return {"helped": cross_help.helped_counts(db, scope, since, until)}


@warning_pages.add_board_part
def _figures(db, scope: Scope, f: Filters, now) -> dict:
    """The board's four figures (dissuasion.board: 未签收, 已超时, 已升级, 积压), for the station filtered on or all
    of the user's scope."""
    return {"figures": board.counts(db, scope, now, station_id=f.station_id), "FIGURES": board.FIGURES}


@warning_pages.add_detail_part
def _handling(db, scope: Scope, warning: Warning) -> dict:
    """The warning page's dissuasion: its timeline, next deadline and 回访; the person's family contacts (家属,
    with pii_full only, audited as read); and whom it may be reassigned to (改派), for a user who may reassign and
    does not only help with its first contact (跨所协助)."""
    family = list(db.scalars(select(FamilyContact).where(FamilyContact.person_id == warning.person_id))) \
        if warning.person_id and scope.can(Perm.PII_FULL) else []
    if family:
        audit.record(db, scope, "view", "family_contact", warning.person_id, fields=["name"],
                     detail={"ids": [f.id for f in family], "warning": warning.id})
    reassigning = not helping_only(db, scope, warning) and holders.may_reassign(scope) \
        and warning.station_id is not None and warning.feedback_at is None
    return {"timeline": service.timeline(db, warning), "family": family, "reassigning": reassigning,
            "holders": holders.holders(db, scope, warning, now=utcnow()) if reassigning else [],
            "follow_ups": list(db.scalars(select(FollowUp).where(FollowUp.warning_id == warning.id))),
            "next_deadline": service.next_deadline(warning)}


def _back(warning_id: int, note: str = "") -> RedirectResponse:
    return RedirectResponse(f"/warnings/{warning_id}" + (f"?done={note}" if note else ""), status_code=303)


@router.get("/tasks")
def my_tasks(request: Request, db: Db, scope: Scope = Depends(require(Perm.CLAIM_WARNINGS))):
    """我的任务: open warnings held by me, most urgent first (dissuasion.urgency), 积压 apart, and 回访 due (on my
    warnings, and the station's case-victim 回访 anyone of it may do).
    htmx asks for it again every 30 s and gets the list alone."""
    now = utcnow()
    helping = and_(Warning.id.in_(select(WarningHelp.warning_id).where(WarningHelp.helper_id == scope.user_id)),
                   Warning.first_contact_at.is_(None))  # 跨所协助, until the first contact is made
    # Each one's help (the list marks 协助首次联系) is read with them: one query, not one per warning.
    mine = list(db.scalars(select(Warning).where(or_(Warning.assignee_id == scope.user_id, helping),
                                                 open_set.clause(db))
                           .options(joinedload(Warning.community), selectinload(Warning.help))))
    active, backlog = urgency.order(mine, now)
    waiting = list(db.scalars(select(Warning).where(visible(scope), Warning.status == "dispatched",
                                                    open_set.clause(db))
                              .order_by(Warning.sign_deadline).limit(20)))
    due = follow_ups.due_for(db, scope, now)
    offers = cross_help.offers(db, scope, now=now)
    shown = [w.id for w in mine + waiting]
    if shown:
        audit.record(db, scope, "view", "warning", "", fields=["name"], detail={"ids": shown})
    if due:
        audit.record(db, scope, "view", "follow_up", "", fields=["name:masked"], detail={"ids": [r.f.id for r in due]})
    template = "dissuasion/_tasks.html" if request.headers.get("hx-request") else "dissuasion/tasks.html"
    return render(request, template, active=active, backlog=backlog, waiting=waiting, follow_ups=due, now=now,
                  offers=offers,
                  high_ids=[t.warning.id for t in active if t.warning.risk_grade == "high"],
                  backlog_hours=int(urgency.backlog_after().total_seconds() // 3600))


@router.post("/warnings/{warning_id}/help", dependencies=[Depends(csrf_protect)])
def take_help(warning_id: IdPath, request: Request, db: Db,
              scope: Scope = Depends(require(Perm.CLAIM_WARNINGS))):
    """协助首次联系: take over a sibling station's first contact (dissuasion/help.py), then open it to call."""
    cross_help.take(db, scope, warning_id)  # anything no longer on offer answers 404 with the reason
    return _back(warning_id, "helping")


@router.post("/warnings/{warning_id}/sign", dependencies=[Depends(csrf_protect)])
def sign(warning_id: IdPath, request: Request, db: Db,
         scope: Scope = Depends(require(Perm.CLAIM_WARNINGS))):
    try:
        service.sign(db, scope, warning_id)
    except DomainError as exc:
        return detail_with_error(request, db, scope, warning_id, exc)
    return _back(warning_id, "signed")


def _number(text: str, kind: type) -> float | int | None:
    """A machine-filled field (the browser's position): a number, or None when empty or not a number."""
    try:
        value = kind(float(text)) if text.strip() else None
    except (ValueError, OverflowError):
        return None
    return value if value is None or value == value else None  # NaN is no position


def _contact_kept(form) -> dict:
    """What the contact form sent, to fill it in again (a file input cannot be refilled: the page says so)."""
    return {"form": "contact", "channel": str(form.get("channel", ""))[:16], "result": str(form.get("result", ""))[:16],
            "no_answer_reason": str(form.get("no_answer_reason", ""))[:16],
            "family_contact_id": str(form.get("family_contact_id") or "")[:10],
            "note": str(form.get("note", ""))[:1000], "location": str(form.get("location", ""))[:120],
            "notice_signed": form.get("notice_signed") == "on",
            "checklist": [str(c)[:20] for c in form.getlist("checklist")][:len(CHECKLIST)],
            "latitude": str(form.get("latitude", ""))[:20], "longitude": str(form.get("longitude", ""))[:20],
            "accuracy": str(form.get("accuracy", ""))[:10]}


@router.post("/warnings/{warning_id}/contacts", dependencies=[Depends(csrf_protect)])
async def add_contact(warning_id: IdPath, request: Request, db: Db,
                      scope: Scope = Depends(require(Perm.CLAIM_WARNINGS))):
    """登记联系. A reached 见面 without any evidence is not saved at once: the page asks, naming what is missing and
    that it will not count toward 见面劝阻率, and saves it only with 仍然保存 ticked."""
    form = await request.form()
    kept = _contact_kept(form)
    photo = form.get("photo")
    data = await photo.read(service.MAX_PHOTO + 1) if hasattr(photo, "read") else b""
    family = kept["family_contact_id"]
    evidence = service.Evidence(photo=data or None, location=kept["location"], notice_signed=kept["notice_signed"],
                                checklist=tuple(kept["checklist"]), latitude=_number(kept["latitude"], float),
                                longitude=_number(kept["longitude"], float), accuracy=_number(kept["accuracy"], int))
    if service.uncounted_face(kept["channel"], kept["result"], evidence) and form.get("confirm_uncounted") != "on":
        return detail_asking(request, db, scope, warning_id, "no_evidence", kept)
    try:
        queued = offline.begin(db, scope, warning_id, kind="contact", sent=offline.Sent.from_form(form), payload=kept,
                               photo=data or None)
        if queued.answer:  # a repeat of a queued submission, or a 冲突 kept
            return RedirectResponse(offline.redirect_path(warning_id, queued.answer, "contact"), status_code=303)
        contact = service.add_contact(
            db, scope, warning_id, channel=kept["channel"], result=kept["result"], note=kept["note"],
            family_contact_id=int(family) if family.isascii() and family.isdigit() else None, evidence=evidence,
            no_answer_reason=kept["no_answer_reason"], now=queued.at)
        queued.done(contact.id)
    except DomainError as exc:
        return detail_with_error(request, db, scope, warning_id, exc, kept)
    uncounted = contact.channel in FACE_CHANNELS and not contact.counts_as_face
    return _back(warning_id, "contact_uncounted" if uncounted else "contact")


def _amount(text: str) -> Decimal | None:
    try:
        return parse_money(text)
    except ValueError as exc:
        raise Invalid(str(exc), details=[{"loc": ["amount"], "msg": "金额不对"}]) from exc


def _outcome_kept(outcome: str, amount_protected: str, amount_lost: str, note: str, target: str = "",
                  success_kind: str = "") -> dict:
    return {"form": "outcome", "outcome": outcome, "amount_protected": amount_protected, "amount_lost": amount_lost,
            "note": note, "target": target, "success_kind": success_kind}


@router.post("/warnings/{warning_id}/outcome/confirm", dependencies=[Depends(csrf_protect)])
def outcome_confirm(warning_id: IdPath, request: Request, db: Db, outcome: str = Form("", max_length=16),
                    amount_protected: str = Form("", max_length=20), amount_lost: str = Form("", max_length=20),
                    note: str = Form("", max_length=1000), target: str = Form("", max_length=8),
                    success_kind: str = Form("", max_length=16),
                    scope: Scope = Depends(require(Perm.CLAIM_WARNINGS))):
    """反馈并结案, first press: checks what would be refused, then asks to confirm (closing cannot be undone)."""
    kept = _outcome_kept(outcome, amount_protected, amount_lost, note, target, success_kind)
    try:
        service.check_outcome(db, scope, warning_id, outcome=outcome, amount_protected=_amount(amount_protected),
                              amount_lost=_amount(amount_lost), target=target, success_kind=success_kind)
    except DomainError as exc:
        return detail_with_error(request, db, scope, warning_id, exc, kept)
    return detail_asking(request, db, scope, warning_id, "close", kept)


@router.post("/warnings/{warning_id}/outcome", dependencies=[Depends(csrf_protect)])
def outcome(warning_id: IdPath, request: Request, db: Db, outcome: str = Form("", max_length=16),
            amount_protected: str = Form("", max_length=20), amount_lost: str = Form("", max_length=20),
            note: str = Form("", max_length=1000), target: str = Form("", max_length=8),
            success_kind: str = Form("", max_length=16), idempotency_key: str = Form("", max_length=40),
            device_at: str = Form("", max_length=40), sent_at: str = Form("", max_length=40),
            scope: Scope = Depends(require(Perm.CLAIM_WARNINGS))):
    kept = _outcome_kept(outcome, amount_protected, amount_lost, note, target, success_kind)
    try:
        sent = offline.Sent.parse(idempotency_key, device_at, sent_at)
        queued = offline.begin(db, scope, warning_id, kind="outcome", sent=sent,
                               payload={k: v for k, v in kept.items() if k != "form"})
        if queued.answer:  # a repeat of a queued submission, or a 冲突 kept
            return RedirectResponse(offline.redirect_path(warning_id, queued.answer, "outcome"), status_code=303)
        queued.done(service.set_outcome(db, scope, warning_id, outcome=outcome,
                                        amount_protected=_amount(amount_protected), amount_lost=_amount(amount_lost),
                                        note=note, target=target, success_kind=success_kind, now=queued.at).id)
    except DomainError as exc:
        return detail_with_error(request, db, scope, warning_id, exc, kept)
    return _back(warning_id, "outcome")


@router.post("/warnings/{warning_id}/call", dependencies=[Depends(csrf_protect)])
def call(warning_id: IdPath, request: Request, db: Db, family_contact_id: IdForm = 0,
         scope: Scope = Depends(require(Perm.PII_FULL))):
    """拨打: the full number is fetched only now, as an audited reveal of that one number (the page never carries
    it). A script asks for JSON and opens tel:; without script the page comes back with the number as a link."""
    found = service.dial(db, scope, warning_id, family_contact_id or None)
    dial = {"tel": found.tel, "label": found.label}
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(dial, headers={"Cache-Control": "no-store"})
    return detail_dialling(request, db, scope, found.warning, dial)


def _reassign_kept(user_id: int, reason: str) -> dict:
    return {"form": "reassign", "user_id": user_id, "reason": reason}


@router.post("/warnings/{warning_id}/reassign/confirm", dependencies=[Depends(csrf_protect)])
def reassign_confirm(warning_id: IdPath, request: Request, db: Db, user_id: IdForm = 0, reason: str = Form("", max_length=200),
                     scope: Scope = Depends(require(Perm.READ_WARNINGS))):
    """改派, first press: checks what would be refused, then shows 将预警 … 由 张三 改派给 李四 to confirm."""
    kept = _reassign_kept(user_id, reason)
    try:
        plan = service.check_reassign(db, scope, warning_id, user_id=user_id, reason=reason)
    except DomainError as exc:
        return detail_with_error(request, db, scope, warning_id, exc, kept)
    return detail_asking(request, db, scope, warning_id, "reassign", kept | {"sentence": plan.sentence()})


@router.post("/warnings/{warning_id}/reassign", dependencies=[Depends(csrf_protect)])
def reassign(warning_id: IdPath, request: Request, db: Db, user_id: IdForm = 0, reason: str = Form("", max_length=200),
             scope: Scope = Depends(require(Perm.READ_WARNINGS))):
    try:
        service.reassign(db, scope, warning_id, user_id=user_id, reason=reason)
    except DomainError as exc:
        return detail_with_error(request, db, scope, warning_id, exc, _reassign_kept(user_id, reason))
    return _back(warning_id, "reassign")


@router.get("/evidence/{contact_id}")
def evidence(contact_id: IdPath, db: Db, scope: Scope = Depends(require(Perm.READ_WARNINGS))):
    contact = db.scalar(select(Contact).join(Warning, Contact.warning_id == Warning.id)
                        .where(Contact.id == contact_id, visible(scope)))
    if contact is None or not contact.photo_path:
        raise NotFound("照片不存在或不在您的管辖范围内")
    audit.record(db, scope, "view", "evidence", contact.id)
    return serve_stored(contact.photo_path)


@router.get("/notifications")
def notifications(request: Request, db: Db, scope: Scope = Depends(current_scope)):
    rows = notify.inbox(db, scope.user_id)
    return render(request, "dissuasion/notifications.html", rows=rows, gone=_gone_warnings(db, scope, rows))


def _gone_warnings(db: Session, scope: Scope, rows: list) -> set[str]:
    """The links of notifications about a warning the user can no longer open (移交 to another station, 改派 away from
    a helper): the page says so instead of offering a link that answers 404."""
    linked = {n.link: int(m.group(1)) for n in rows if n.link and (m := _WARNING_LINK.fullmatch(n.link))}
    if not linked:
        return set()
    if not scope.can(Perm.READ_WARNINGS):
        return set(linked)
    open_ = set(db.scalars(select(Warning.id).where(Warning.id.in_(set(linked.values())), reachable(scope))))
    return {link for link, wid in linked.items() if wid not in open_}


@router.post("/notifications/read", dependencies=[Depends(csrf_protect)])
def read_all(db: Db, scope: Scope = Depends(current_scope)):
    notify.mark_read(db, scope.user_id)
    return RedirectResponse("/notifications", status_code=303)


@router.get("/tasks/conflicts")
def conflicts(request: Request, db: Db,
              scope: Scope = Depends(require(Perm.CLAIM_WARNINGS))):
    """冲突 of queued submissions (the dissuader's own; a 所长's station's), loaded into 我的任务 by htmx."""
    rows = offline.conflicts(db, scope)
    return render(request, "dissuasion/_conflicts.html", rows=rows, names=offline.names_of(db, rows),
                  REASONS=offline.REASONS, KINDS=offline.KINDS)


@router.get("/warnings/{warning_id}/submissions")
def submissions(warning_id: IdPath, request: Request, db: Db,
                scope: Scope = Depends(require(Perm.READ_WARNINGS))):
    """Submissions from the phone on a warning, with the phone's and the server's times, loaded by htmx."""
    rows = offline.of_warning(db, scope, warning_id)
    return render(request, "dissuasion/_submissions.html", rows=rows, names=offline.names_of(db, rows),
                  REASONS=offline.REASONS, KINDS=offline.KINDS, SKEW_LIMIT=offline.SKEW_LIMIT)
