"""Counterparty identifiers of cases and warnings (串并案): one row per record and identifier, indexed on (kind, key).
Backfilled from warnings.counterparty_account (cases had no counterparty fields): each value of the cell spelled as
links/rules.py spells an account at this revision (digits only for a number of 5—19 digits, a lower-case login
otherwise; a cell split at 、，,;； and, where a part is not one account as a whole, at spaces); values that are
neither, and the warned person's own phone or ID number, are left out.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-06 20:40:00
"""

import re
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import fanzha.db

revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None

_SEPARATORS = re.compile(r"[、，,;；\n]+")
_LOGIN = re.compile(r"[a-z0-9][a-z0-9_.@\-]{3,63}")


def _account_key(value: str) -> str:
    compact = re.sub(r"[\s\-]", "", value.lower())
    if compact.isdigit():
        return compact if 5 <= len(compact) <= 19 else ""
    return compact if _LOGIN.fullmatch(compact) else ""


def upgrade() -> None:
    table = op.create_table(
        'counterparty_ids',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('record_kind', sa.String(length=8), nullable=False),
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('value', sa.String(length=200), nullable=False),
        sa.Column('created_at', fanzha.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_counterparty_ids')),
        sa.UniqueConstraint('record_kind', 'record_id', 'kind', 'key', name='uq_counterparty_ids_record_key'),
    )
    op.create_index('ix_counterparty_ids_kind_key', 'counterparty_ids', ['kind', 'key'], unique=False)
    conn = op.get_bind()
    now = datetime.now(UTC)
    rows = []
    found = conn.execute(sa.text("SELECT id, counterparty_account, phone, id_number FROM warnings "
                                 "WHERE counterparty_account <> '' ORDER BY id")).all()
    for warning_id, cell, phone, id_number in found:
        own = {re.sub(r"\D", "", v) for v in (phone, id_number) if v} | {(id_number or "").lower()}
        keys = set()
        parts = []
        for part in (p.strip() for p in _SEPARATORS.split(cell.strip())):
            # "6222 0211 …" is one account; "6222… 6228…" two (split at spaces only when not one as a whole)
            parts += [part] if _account_key(part) else part.split()
        for part in parts:
            key = _account_key(part)
            if key and key not in keys and key not in own and re.sub(r"\D", "", key) not in own - {""}:
                keys.add(key)
                rows.append({"record_kind": "warning", "record_id": warning_id, "kind": "account", "key": key,
                             "value": part[:200], "created_at": now})
        if len(rows) >= 5000:
            op.bulk_insert(table, rows)
            rows = []
    if rows:
        op.bulk_insert(table, rows)


def downgrade() -> None:
    op.drop_index('ix_counterparty_ids_kind_key', table_name='counterparty_ids')
    op.drop_table('counterparty_ids')
