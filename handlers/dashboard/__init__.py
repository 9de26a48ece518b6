"""The operators' dashboard, chat side: ``/dashboard`` sends a one-time login link privately,
``/dashboard logout`` ends every browser session of the caller (issue 17).

The pages themselves are the ``web`` package; they share this feature's tables
(``storage.dashboard``): a link made here is accepted by a ``bot web`` process started separately
on the same database.
"""

from __future__ import annotations

from bot.feature import Feature
from handlers.dashboard.commands import router

FEATURE = Feature(name="dashboard", router=router)
