"""The reaction emoji whitelist: the only emojis the server accepts as reactions."""

import emoji

_WHITELIST_TEXT = (
    "😀😃😄😁😆😅🤣😂🙂🙃😉😊😇🥰😍🤩😘😗😋😛😜🤪🤑🤗🤭🤫🤔🤐🤨😐😑😶😏😒🙄😬🤥😌😔😪🤤😴😷🤒🤢🤮🤧🥵🥶🥴🤯🤠🥳😎🤓🧐😕😟🙁"
    "☹️😮😯😲😳🥺😧😨😰😥😢😭😱😖😣😞😓😩😫🥱😤😡😠🤬😈💀💩🤡👻👽🤖🙈🙉🙊❤️🧡💛💚💙💜🖤🤍🤎💔❣️💕💞💓💗💖💘❤️‍🔥💯💥"
    "💫💬👋✋👌🤏✌️🤞🤟🤘🤙👈👉👆👇☝️👍👎✊👊👏🙌👐🤲🤝🙏✍️💪👀👁️🧠🔥✨⭐🌟⚡🌈🌞☀️🌙❄️☔☁️💧🎉🎊🎈🎁🎂🏆🏅🥇⚽"
    "🏀🍕🍔🍟🌭🌮🍿🍩🍪🍫☕🍺🍻🥂🍷🍹🐶🐱🦄🐵🦊🐻🐼🐰🐧🐸🐢🐍🦋🚀✈️🚗🏠💰💎💡🔔🎵🎧📷📱💻📚📝📌📎⌛⏰✅✔️❌❓❗⚠️⛔🚫➕"
    "➖🆗🆕"
)

REACTION_EMOJIS: tuple[str, ...] = tuple(
    item["emoji"] for item in emoji.emoji_list(_WHITELIST_TEXT)
)
"""Every emoji a user may react with, in picker order (226 of them)."""

QUICK_REACTIONS: tuple[str, ...] = ("👍", "❤️", "😂", "😮", "😢", "🙏")
"""The quick row of the reaction picker: thumbs up, red heart, joy, surprise, sad, thanks."""

_ALLOWED = frozenset(REACTION_EMOJIS)


def is_allowed_reaction(candidate: str) -> bool:
    """True when ``candidate`` is exactly one whitelisted emoji."""
    return candidate in _ALLOWED
