"""Communities across chats and platforms, federations of ban lists, and linked accounts.

Revision ID: community_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "community_0001"
down_revision = "0001"
branch_labels = ("community",)
depends_on = None


def _group_fk() -> sa.ForeignKey:
    return sa.ForeignKey("groups.id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "communities",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("share_bans", sa.Boolean, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "community_chats",
        sa.Column("group_id", sa.Integer, _group_fk(), primary_key=True),
        sa.Column(
            "community_id",
            sa.Integer,
            sa.ForeignKey("communities.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("added_by", sa.String(128), nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "community_codes",
        sa.Column("code", sa.String(16), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target", sa.Integer, nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("group_id", sa.Integer, _group_fk()),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "account_links",
        sa.Column("platform", sa.String(32), primary_key=True),
        sa.Column("user_id", sa.String(128), primary_key=True),
        sa.Column("person_id", sa.Integer, nullable=False),
        sa.Column("linked_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_account_links_person_id", "account_links", ["person_id"])
    op.create_table(
        "federations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("owner_platform", sa.String(32), nullable=False),
        sa.Column("owner_user", sa.String(128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("code", name="uq_federations_code"),
    )
    fed_fk = sa.ForeignKey("federations.id", ondelete="CASCADE")
    op.create_table(
        "federation_admins",
        sa.Column("federation_id", sa.Integer, fed_fk, primary_key=True),
        sa.Column("platform", sa.String(32), primary_key=True),
        sa.Column("user_id", sa.String(128), primary_key=True),
        sa.Column("added_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "federation_chats",
        sa.Column("group_id", sa.Integer, _group_fk(), primary_key=True),
        sa.Column(
            "federation_id",
            sa.Integer,
            sa.ForeignKey("federations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("joined_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "federation_bans",
        sa.Column(
            "federation_id",
            sa.Integer,
            sa.ForeignKey("federations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("reason", sa.String(200)),
        sa.Column("banned_by", sa.String(128), nullable=False),
        sa.Column("banned_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("federation_id", "platform", "user_id", name="uq_federation_bans"),
    )


def downgrade() -> None:
    for table in (
        "federation_bans",
        "federation_chats",
        "federation_admins",
        "federations",
        "account_links",
        "community_codes",
        "community_chats",
        "communities",
    ):
        op.drop_table(table)
