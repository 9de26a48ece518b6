"""A newcomer on the chat's federation ban list is banned as they join; one listed by CAS soon after."""

from __future__ import annotations

import logging

from bot.context import Context
from handlers.community import cas
from handlers.community.commands import router
from handlers.community.federation import ban_in
from handlers.community.settings import CommunitySettings
from handlers.community.state import account_of, get_state

log = logging.getLogger(__name__)


@router.join()
async def on_join(ctx: Context) -> None:
    """Check the newcomer (every account they linked) against the federation's ban list, then
    (opt-in) against CAS online."""
    group, member = ctx.group, ctx.member
    if group is None or member is None or ctx.user.is_bot:
        return
    settings = await ctx.settings(CommunitySettings)
    ban = None
    if settings.federation_bans_on_join and await get_state(ctx.services).in_federation(group.id):
        repos = get_state(ctx.services).repos
        # One statement for "any account of this person banned where this chat subscribes".
        ban = await repos.federations.banned_person(group.id, account_of(group, member.user_id))
    if ban is None:
        if settings.cas_check:
            # In the background: the join goes on (welcome, captcha) without waiting for CAS.
            cas.watch(ctx.services, group, member.user_id, member.display_name)
        return
    log.info("federation-banned account %s joined group %s: banning", member.user_id, group.id)
    await ban_in(ctx.services, group, member.user_id, member.display_name, ban.reason)
    ctx.stop()
