"""Properties of the classifier over any text: total (a Classification for every string, never an
exception), deterministic (the same text, the same verdict), and a standard opt-out keyword alone
is an opt-out whatever its case and whatever punctuation or spaces surround it."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from proactive_sms.domain import revocation_phrases
from proactive_sms.domain.keywords import Classification, InboundClass, classify

_OPT_OUT_KEYWORDS = sorted(e.display for e in revocation_phrases.KEYWORDS if e.kind == "opt_out")


def _stays_punctuation(char: str) -> bool:
    # NFKC turns a few symbols into letters (U+FDFC RIAL SIGN is "ریال"): glued to the keyword
    # they make another word, which is right, so they are not "punctuation" here.
    return not any(c.isalnum() for c in unicodedata.normalize("NFKC", char))


_PUNCTUATION = st.text(
    st.characters(whitelist_categories=("Po", "Ps", "Pe", "Pd", "Pi", "Pf", "Zs", "Sm", "Sc"))
    .filter(_stays_punctuation),
    max_size=4,
)
_ANY_TEXT = st.one_of(
    st.text(),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=300),
    st.lists(st.sampled_from(_OPT_OUT_KEYWORDS + ["please", "not", "don't", ".", "!", "😀",
                                                  "\u200b", "\u202e", "stpo", "yes", "help"]),
             max_size=10).map(" ".join),
)


@given(_ANY_TEXT)
def test_classify_is_total_and_deterministic(text: str) -> None:
    first = classify(text)
    assert isinstance(first, Classification) and isinstance(first.kind, InboundClass)
    assert first.reason or first.kind is InboundClass.REPLY
    assert classify(text) == first


@given(st.sampled_from(_OPT_OUT_KEYWORDS), _PUNCTUATION, _PUNCTUATION, st.data())
def test_an_opt_out_keyword_alone_is_an_opt_out_in_any_case_with_any_punctuation(
    keyword: str, before: str, after: str, data: st.DataObject
) -> None:
    cased = "".join(
        ch.upper() if data.draw(st.booleans(), label=f"upper {i}") else ch.lower()
        for i, ch in enumerate(keyword)
    )
    verdict = classify(before + cased + after)
    assert verdict.kind is InboundClass.OPT_OUT, (before + cased + after, verdict.reason)
