"""Turn python-telegram-bot ``Update`` objects into the core's platform-free events."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from telegram import CallbackQuery, Chat, ChatMemberUpdated, Message, MessageEntity, Update, User

from bot.events import (
    ButtonPressed,
    ChatMigrated,
    ChatRef,
    MemberJoined,
    MemberLeft,
    MessageEvent,
    PlatformEvent,
    Segment,
    UserRef,
)

PLATFORM = "telegram"

# Why events carry no ``seq`` (the core's high-water dedupe): Telegram's update_id grows only
# until a bot has had no updates for a week; then "the identifier of the next update will be
# chosen randomly" (Bot API, Update). A persisted high-water mark would then drop every new
# update below it and the bot would go deaf in quiet groups. The event id ("<adapter>:<update_id>")
# is deduplicated by the core for a day, and Telegram keeps undelivered updates for at most
# 24 hours, so redeliveries after a restart are still caught.
#: Statuses in which a user counts as present in a chat (``restricted`` may still be a member).
_PRESENT = {"creator", "administrator", "member", "restricted"}


@dataclass(frozen=True, slots=True)
class BotIdentity:
    """Who the bot is, for spotting mentions of it and commands addressed to it."""

    user_id: int
    username: str


def user_ref(user: User) -> UserRef:
    """A ``UserRef`` for a Telegram user."""
    return UserRef(
        platform=PLATFORM,
        user_id=str(user.id),
        display_name=user.full_name or (user.username or str(user.id)),
        is_bot=user.is_bot,
        username=user.username,
    )


def chat_ref(adapter: str, chat: Chat, thread_id: int | None = None) -> ChatRef:
    """A ``ChatRef``: on Telegram a chat is both the scope and the channel."""
    private = chat.type == Chat.PRIVATE
    title = chat.title if not private else (chat.full_name or chat.username)
    return ChatRef(
        platform=PLATFORM,
        adapter=adapter,
        scope_id=str(chat.id),
        channel_id=str(chat.id),
        kind="private" if private else "group",
        thread_id=str(thread_id) if thread_id is not None else None,
        title=title,
    )


def _message_chat(adapter: str, message: Message) -> ChatRef:
    # Only forum topics carry a usable thread id: in an ordinary supergroup a reply also has a
    # message_thread_id, and sending into it fails with "message thread not found".
    thread = message.message_thread_id if message.is_topic_message else None
    return chat_ref(adapter, message.chat, thread)


_ADDRESSED = re.compile(r"^(/[^\s@]+)@(\w+)")


def command_target(text: str) -> str | None:
    """The bot a ``/cmd@Bot`` command names, lower-cased, or None when it names none."""
    match = _ADDRESSED.match(text)
    return match.group(2).lower() if match else None


def strip_own_address(text: str, me: BotIdentity | None) -> str:
    """``/cmd@OurBot args`` → ``/cmd args``, so the core sees one spelling of a command."""
    match = _ADDRESSED.match(text)
    if me is None or match is None or match.group(2).lower() != me.username.lower():
        return text
    return match.group(1) + text[match.end() :]


def _segments(
    message: Message, text: str, entities: tuple[MessageEntity, ...], me: BotIdentity | None
) -> tuple[tuple[Segment, ...], tuple[UserRef, ...], bool]:
    segments: list[Segment] = []
    mentions: list[UserRef] = []
    mentions_bot = False
    parsed = message.parse_caption_entities() if message.caption else message.parse_entities()
    for entity in entities:
        value = parsed.get(entity, "")
        if entity.type == MessageEntity.MENTION:
            username = value.lstrip("@")
            if me and username.lower() == me.username.lower():
                mentions_bot = True
            segments.append(Segment(kind="mention", text=value, data=username))
        elif entity.type == MessageEntity.TEXT_MENTION and entity.user is not None:
            ref = user_ref(entity.user)
            if me and entity.user.id == me.user_id:
                mentions_bot = True
            mentions.append(ref)
            segments.append(Segment(kind="mention", text=value, user=ref, data=ref.username))
    if message.photo:
        segments.append(Segment(kind="image", data=message.photo[-1].file_id))
    if text:
        segments.insert(0, Segment(kind="text", text=text))
    return tuple(segments), tuple(mentions), mentions_bot


def message_events(
    adapter: str, update_id: int, message: Message, *, edited: bool, me: BotIdentity | None
) -> list[PlatformEvent]:
    """Events for one message: a text message, or the service events it carries."""
    chat = _message_chat(adapter, message)
    at: datetime = message.edit_date if edited and message.edit_date else message.date
    event_id = f"{adapter}:{update_id}"
    events: list[PlatformEvent] = []

    if message.migrate_to_chat_id:
        events.append(
            ChatMigrated(
                event_id=event_id,
                at=at,
                chat=chat,
                new_scope_id=str(message.migrate_to_chat_id),
                new_channel_id=str(message.migrate_to_chat_id),
            )
        )
        return events
    if message.new_chat_members:
        actor = message.from_user
        for i, member in enumerate(message.new_chat_members):
            inviter = user_ref(actor) if actor is not None and actor.id != member.id else None
            events.append(
                MemberJoined(
                    event_id=f"{event_id}:{i}" if i else event_id,
                    at=at,
                    chat=chat,
                    member=user_ref(member),
                    invited_by=inviter,
                    message_id=str(message.message_id),
                )
            )
        return events
    if message.left_chat_member:
        events.append(
            MemberLeft(event_id=event_id, at=at, chat=chat, member=user_ref(message.left_chat_member))
        )
        return events

    raw = message.text if message.text is not None else (message.caption or "")
    if not raw and not message.photo:
        # Stickers, polls, pins and other service messages carry nothing the features read.
        return events
    # "/cmd@OtherBot" still arrives: the router does not run it (it names another bot), but
    # moderation must see it, or "/x@SomeBot <spam>" would slip past the keyword filter.
    entities = tuple(message.caption_entities if message.caption else message.entities)
    segments, mentions, mentions_bot = _segments(message, raw, entities, me)
    sender = _sender(message)
    if sender is None:
        return events
    reply = message.reply_to_message
    reply_user = user_ref(reply.from_user) if reply is not None and reply.from_user is not None else None
    events.append(
        MessageEvent(
            event_id=event_id,
            at=at,
            chat=chat,
            sender=sender,
            message_id=str(message.message_id),
            text=strip_own_address(raw, me),
            segments=segments,
            reply_to=str(reply.message_id) if reply is not None else None,
            reply_to_user=reply_user,
            mentions=mentions,
            mentions_bot=mentions_bot,
            edited=edited,
            language=message.from_user.language_code if message.from_user else None,
            reply_to_image=reply.photo[-1].file_id if reply is not None and reply.photo else None,
        )
    )
    return events


def _sender(message: Message) -> UserRef | None:
    if message.sender_chat is not None:
        # An anonymous administrator (the group itself), a linked channel's post, or a member
        # speaking as a channel: the chat is the sender, not Telegram's placeholder bot account.
        chat = message.sender_chat
        return UserRef(
            PLATFORM, str(chat.id), chat.title or str(chat.id), is_bot=False, username=chat.username
        )
    if message.from_user is None:
        return None
    return user_ref(message.from_user)


def member_update_events(adapter: str, update_id: int, change: ChatMemberUpdated) -> list[PlatformEvent]:
    """Joins and leaves from ``chat_member`` updates (sent only when the bot is an admin)."""
    was = change.old_chat_member.status in _PRESENT and _is_member(change.old_chat_member)
    now = change.new_chat_member.status in _PRESENT and _is_member(change.new_chat_member)
    chat = chat_ref(adapter, change.chat)
    user = change.new_chat_member.user
    event_id = f"{adapter}:{update_id}"
    if not was and now:
        actor = change.from_user
        inviter = user_ref(actor) if actor is not None and actor.id != user.id else None
        return [MemberJoined(event_id, change.date, chat, user_ref(user), inviter)]
    if was and not now:
        return [MemberLeft(event_id, change.date, chat, user_ref(user))]
    return []


def _is_member(member: object) -> bool:
    # A "restricted" user may have left the chat while staying restricted.
    return bool(getattr(member, "is_member", True))


def button_event(adapter: str, update_id: int, query: CallbackQuery, at: datetime) -> ButtonPressed | None:
    """A button press, when the message it sits under is known (inline-mode buttons are not)."""
    message = query.message
    if message is None or query.data is None:
        return None
    thread = None
    if isinstance(message, Message) and message.is_topic_message:
        thread = message.message_thread_id
    return ButtonPressed(
        event_id=f"{adapter}:{update_id}",
        at=at,
        chat=chat_ref(adapter, message.chat, thread),
        user=user_ref(query.from_user),
        message_id=str(message.message_id),
        data=query.data,
    )


def update_events(adapter: str, update: Update, me: BotIdentity | None, at: datetime) -> list[PlatformEvent]:
    """Every core event one update carries (often one, sometimes none or several)."""
    if update.message is not None:
        return message_events(adapter, update.update_id, update.message, edited=False, me=me)
    if update.edited_message is not None:
        return message_events(adapter, update.update_id, update.edited_message, edited=True, me=me)
    if update.chat_member is not None:
        return member_update_events(adapter, update.update_id, update.chat_member)
    if update.my_chat_member is not None and update.my_chat_member.chat.type != Chat.PRIVATE:
        # The bot itself added to or removed from a group: the core can greet the group, or
        # mark it inactive instead of discovering later that every send fails.
        return member_update_events(adapter, update.update_id, update.my_chat_member)
    if update.callback_query is not None:
        pressed = button_event(adapter, update.update_id, update.callback_query, at)
        return [pressed] if pressed is not None else []
    return []


def with_data(event: ButtonPressed, data: str) -> ButtonPressed:
    """The same press with other data (a long callback alias resolved)."""
    return ButtonPressed(event.event_id, event.at, event.chat, event.user, event.message_id, data, event.seq)
