"""contact evidence: a 见面 photo's capture time (EXIF) and the phone's location with its accuracy

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 15:00:00
"""

import sqlalchemy as sa
from alembic import op

import fanzha.db

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

COLUMNS = ('photo_taken_at', 'latitude', 'longitude', 'location_accuracy')


def upgrade() -> None:
    # Plain ALTER TABLE, nullable: existing contacts keep what they had and show no capture time or place.
    op.add_column('contacts', sa.Column('photo_taken_at', fanzha.db.UTCDateTime(), nullable=True))
    op.add_column('contacts', sa.Column('latitude', sa.Float(), nullable=True))
    op.add_column('contacts', sa.Column('longitude', sa.Float(), nullable=True))
    op.add_column('contacts', sa.Column('location_accuracy', sa.Integer(), nullable=True))


def downgrade() -> None:
    for column in reversed(COLUMNS):
        op.drop_column('contacts', column)
