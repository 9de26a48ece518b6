"""Moderation: whether a group's lexicon term is shared with its community (issue 18).

Existing terms are shared (a chat brings its lexicon into a community); ``/kw add … here`` adds
one that stays in its chat.

Revision ID: moderation_0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "moderation_0003"
down_revision = "moderation_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mod_terms") as batch:
        batch.add_column(sa.Column("shared", sa.Boolean, nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table("mod_terms") as batch:
        batch.drop_column("shared")
