"""The class of a link click's user agent: mobile, desktop, bot or other.

Messaging apps fetch a link to draw its preview card as soon as the text arrives (WhatsApp,
iMessage, which sends facebookexternalhit/Twitterbot, Telegram, Signal, Slack...): those fetches
are `bot` and never count as a click. So are crawlers and link scanners. A browser on a phone or
tablet is `mobile`, on a computer `desktop`; anything else (a command-line tool, an app's own
fetcher without a known name) is `other`, and counts, as a person may be behind it.
"""

from __future__ import annotations

import functools
import re

AGENT_CLASSES = ("mobile", "desktop", "bot", "other")

# Link-preview fetchers of messaging and social apps, search crawlers, and generic markers.
_BOT = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|preview|facebookexternalhit|facebot|whatsapp|"
    r"telegram|skypeuri|linkedin|pinterest|embedly|quora link|vkshare|w3c_validator|"
    r"headlesschrome|lighthouse|bitlybot|discord|slack|signal|viber|line/|kakaotalk-scrap|"
    r"snapchat|redditbot|mastodon|iframely|outbrain|yahoo! slurp|duckduck|baidu|yandex|"
    r"proofpoint|mimecast|barracuda|safelinks|urlscan|scanner",
    re.IGNORECASE,
)
_MOBILE = re.compile(r"mobile|android|iphone|ipad|ipod|windows phone|blackberry|opera mini|"
                     r"kaios|silk/", re.IGNORECASE)
_DESKTOP = re.compile(r"windows nt|macintosh|mac os x|x11|linux x86_64|cros|ubuntu|fedora",
                      re.IGNORECASE)


@functools.lru_cache(maxsize=1024)  # a campaign's clickers share a few browsers
def classify(user_agent: str | None) -> str:
    """mobile | desktop | bot | other for a User-Agent header (None or empty: other)."""
    if not user_agent:
        return "other"
    if _BOT.search(user_agent):
        return "bot"
    if _MOBILE.search(user_agent):
        return "mobile"
    if _DESKTOP.search(user_agent):
        return "desktop"
    return "other"
