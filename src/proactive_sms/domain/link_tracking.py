"""Which links of a template are tracked, and the template with each one replaced by a sample
short link of the exact length every recipient's link will have.

Tracked: each `{Link:https://...}` and each web URL in the template's literal text (`http://`,
`https://`, `www.` or a bare `domain.tld/path`, as domain.direction.URL finds them). Not
tracked: `tel:`, `mailto:`, `sms:` links, a URL that runs into a merged value
(`https://x.co/{Path}`: its target differs per record), and a URL already on the short domain.
Sentence punctuation just after a URL ("...at https://x.co/pay.") is not part of it.

The launch renders each record's text with the samples (segments and encoding are those of the
real text: codes have a fixed length and only GSM-7 basic characters), then swaps each sample
for the recipient's own link (services.record_decision).
"""

from __future__ import annotations

from dataclasses import dataclass

from proactive_sms.domain import direction as bidi
from proactive_sms.domain import short_links
from proactive_sms.domain.template import Template, Variable

_TRAILING = ".,;:!?)]'\"»›”’"
_WEB_SCHEMES = ("http://", "https://")


@dataclass(frozen=True)
class TrackedText:
    """A template with its tracked links replaced by samples, and each link's target."""

    template: Template
    targets: tuple[str, ...]  # by link index
    samples: tuple[str, ...]  # the sample short link standing for each, by link index


def _target(url: str) -> str | None:
    """The address a found URL leads to, or None when it is not a web link we track."""
    lowered = url.lower()
    if lowered.startswith(_WEB_SCHEMES):
        return url
    if "://" in lowered.split("/", 1)[0] or lowered.startswith(("mailto:", "tel:", "sms:")):
        return None  # another scheme (ftp://, ...) or not a web link
    return "https://" + url


def _links_in(text: str, explicit: tuple[str, ...], domain: str,
              touches_before: bool, touches_after: bool) -> list[tuple[int, int, str]]:
    """(start, end, target) of each tracked link in one literal piece, in order."""
    found: list[tuple[int, int, str]] = []
    for url in explicit:  # {Link:...}: exactly where written
        start = text.find(url)
        while start != -1:
            found.append((start, start + len(url), url))
            start = text.find(url, start + len(url))
    if bidi.might_hold_url(text):
        for match in bidi.URL.finditer(text):
            start, end = match.span()
            while end > start and text[end - 1] in _TRAILING:
                end -= 1
            if any(s < end and start < e for s, e, _ in found):
                continue
            if (start == 0 and touches_before) or (end == len(text) and touches_after):
                continue  # runs into a merged value
            target = _target(text[start:end])
            if target is None or target.lower().startswith(domain.lower() + "/"):
                continue
            found.append((start, end, target))
    return sorted(found)


def track(tpl: Template, domain: str, sample_code: str) -> TrackedText:
    """`tpl` with every tracked link replaced by `<domain>/l/<sample>` (one sample per link,
    made by `sample_code(index)`). At most short_links.MAX_LINKS links are tracked; any
    further one is left as written."""
    pieces: list[str | Variable] = []
    targets: list[str] = []
    samples: list[str] = []
    for position, piece in enumerate(tpl.pieces):
        if isinstance(piece, Variable):
            pieces.append(piece)
            continue
        before = position > 0 and isinstance(tpl.pieces[position - 1], Variable) \
            and not piece[:1].isspace()
        after = position + 1 < len(tpl.pieces) \
            and isinstance(tpl.pieces[position + 1], Variable) and not piece[-1:].isspace()
        out: list[str] = []
        cursor = 0
        for start, end, target in _links_in(piece, tpl.links, domain, before, after):
            if len(targets) >= short_links.MAX_LINKS:
                break
            sample = short_links.short_url(domain, sample_code(len(targets)))
            out.append(piece[cursor:start])
            out.append(sample)
            targets.append(target)
            samples.append(sample)
            cursor = end
        out.append(piece[cursor:])
        pieces.append("".join(out))
    if not targets:
        return TrackedText(tpl, (), ())
    return TrackedText(Template(tpl.body, tuple(pieces), tpl.links), tuple(targets),
                       tuple(samples))
