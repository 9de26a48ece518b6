"""Moderator-chat links with consent from both sides, and their one-time codes.

Before this, any moderator could point ``mod_chat`` at any chat id, which let one group's
moderators switch off another group's defences. Those unverified overrides are removed here:
a group re-links its moderator chat with ``/modchat link`` (the README's upgrade note says so).
The operator's own default (``[core] mod_chat`` in config.toml) is a file, not a row, and stays.

Revision ID: modchat_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "modchat_0001"
down_revision = "0001"
branch_labels = ("modchat",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mod_chat_links",
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
        sa.Column(
            "chat_group_id",
            sa.Integer,
            sa.ForeignKey("groups.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("channel_id", sa.String(128)),
        sa.Column("requested_by", sa.String(128), nullable=False),
        sa.Column("accepted_by", sa.String(128), nullable=False),
        sa.Column("linked_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "mod_chat_codes",
        sa.Column("code", sa.String(16), primary_key=True),
        sa.Column(
            "group_id",
            sa.Integer,
            sa.ForeignKey("groups.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
    )
    settings = sa.table("group_settings", sa.column("key", sa.String))
    op.execute(settings.delete().where(settings.c.key == "mod_chat"))


def downgrade() -> None:
    op.drop_table("mod_chat_codes")
    op.drop_table("mod_chat_links")
