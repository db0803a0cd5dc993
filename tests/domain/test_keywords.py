"""Inbound classification (domain.keywords): the corpus, the rules one by one, and properties."""

from __future__ import annotations

import unicodedata
from collections import Counter

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from proactive_sms.domain import keywords, revocation_phrases
from proactive_sms.domain.keywords import Classification, InboundClass, KeywordSet, classify
from tests.domain.inbound_corpus import ARABIC_REGISTRATION, CORPUS, Case

OPT_OUT = InboundClass.OPT_OUT
OPT_IN = InboundClass.OPT_IN
HELP = InboundClass.HELP
POSSIBLE = InboundClass.POSSIBLE_OPT_OUT
REPLY = InboundClass.REPLY


def _classify_case(case: Case) -> Classification:
    return classify(case.text, ARABIC_REGISTRATION if case.group == "arabic" else None)


# ---- the corpus ----------------------------------------------------------------------------------

def test_corpus_has_at_least_150_distinct_texts_covering_every_kind_of_input() -> None:
    texts = [case.text for case in CORPUS]
    assert len(set(texts)) == len(texts) >= 150
    groups = Counter(case.group for case in CORPUS)
    for group in ("keyword", "keyword_noise", "phrase", "misspelling", "spanish", "french",
                  "arabic", "opt_in", "help", "possible", "reply_stop_end", "reply"):
        assert groups[group] >= 2, group
    assert {case.expected for case in CORPUS} == set(InboundClass)


@pytest.mark.parametrize("case", CORPUS, ids=[f"{c.group}:{c.text!r}" for c in CORPUS])
def test_corpus_text_gets_its_expected_class(case: Case) -> None:
    verdict = _classify_case(case)
    assert verdict.kind == case.expected, verdict.reason


def test_opt_out_recall_is_100_percent_on_the_unambiguous_opt_outs() -> None:
    opt_outs = [case for case in CORPUS if case.expected == OPT_OUT]
    missed = [(c.text, _classify_case(c)) for c in opt_outs if _classify_case(c).kind != OPT_OUT]
    assert len(opt_outs) >= 150
    assert missed == [], f"recall {1 - len(missed) / len(opt_outs):.1%}"


def test_no_ordinary_reply_or_unclear_text_of_the_corpus_is_classified_opt_out() -> None:
    others = [case for case in CORPUS if case.expected in (REPLY, POSSIBLE)]
    wrongly = [(c.text, _classify_case(c).reason) for c in others
               if _classify_case(c).kind == OPT_OUT]
    assert len([c for c in others if c.group.startswith("reply")]) >= 50
    assert wrongly == []


# ---- what the verdict says -----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "kind", "reason", "matched", "language"),
    [
        ("STOP", OPT_OUT, "exact keyword STOP", "STOP", "en"),
        ("Stop. Thank you", OPT_OUT, "exact keyword STOP with 'thank you'", "STOP", "en"),
        ("opt-out", OPT_OUT, "exact keyword OPT OUT", "OPT OUT", "en"),
        ("STOP HELP", OPT_OUT, "exact keyword STOP (opt_out takes precedence over HELP)", "STOP",
         "en"),
        ("help yes", HELP, "exact keyword HELP (help takes precedence over YES)", "HELP", "en"),
        ("arret", OPT_OUT, "French keyword 'ARRÊT'", "ARRÊT", "fr"),
        ("alto", OPT_OUT, "Spanish keyword 'alto'", "alto", "es"),
        ("NO MAS", OPT_OUT, "Spanish keyword 'no más'", "no más", "es"),
        ("stpo", OPT_OUT, "misspelling 'stpo' of STOP", "STOP", "en"),
        ("Stop. Who is this?", OPT_OUT, "exact keyword STOP as a sentence of its own", "STOP",
         "en"),
        ("please stop texting me", OPT_OUT, "revocation phrase 'stop texting me'",
         "stop texting me", "en"),
        ("plz stpo texting me", OPT_OUT,
         "revocation phrase 'stop texting me' (reading misspelled 'stpo')", "stop texting me",
         "en"),
        ("dejen de enviarme mensajes", OPT_OUT, "Spanish revocation phrase 'dejen de enviarme'",
         "dejen de enviarme", "es"),
        ("I will stop by the store tomorrow to pay", POSSIBLE,
         "contains 'stop' in a longer message", "stop", "en"),
        ("don't stop texting me", POSSIBLE,
         "revocation phrase 'stop texting me' (after 'dont', not clearly a revocation)",
         "stop texting me", "en"),
        ("I need to stpo at the bank", POSSIBLE,
         "contains 'stpo', a likely misspelling of STOP, in a longer message", "STOP", "en"),
        ("🛑", POSSIBLE, "stop-sign emoji 🛑", "🛑", None),
        ("yes I will be there", REPLY, "'YES' is a keyword only as the whole message", None,
         None),
        ("Stopwatch", REPLY, "no keyword, revocation phrase or opt-out signal", None, None),
    ],
)
def test_verdict_explains_kind_reason_match_and_language(text, kind, reason, matched,
                                                         language) -> None:
    assert classify(text) == Classification(kind, reason, matched, language)


# ---- normalization -------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("  Stop!! 🛑 ", "stop"),
        ("ＳＴＯＰ", "stop"),  # fullwidth letters (NFKC)
        ("ARRÊT", "arret"),
        ("No MÁS.", "no mas"),
        ("don't text me", "dont text me"),  # English contraction: one word
        ("m'envoyer", "m envoyer"),  # French elision: two words
        ("OPT-OUT", "opt out"),
        ("Stop. Who is this?", "stop . who is this"),
        ("Stop, please", "stop , please"),
        ("S.T.O.P", "stop"),
        ("St\u200bop", "stop"),  # a zero-width space inside the word
        ("إلـغـاء", "الغاء"),  # tatweel and hamza dropped
        ("", ""),
    ],
)
def test_normalization_folds_case_width_accents_and_punctuation(text, normalized) -> None:
    assert keywords.normalize_text(text) == normalized


# ---- the misspelling rule ------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("word", "keyword"),
    [("stpo", "stop"), ("sotp", "stop"), ("tsop", "stop"), ("stopp", "stop"),
     ("stooooop", "stop"), ("srop", "stop"), ("st0p", "stop"), ("unsubscibe", "unsubscribe"),
     ("unsuscribe", "unsubscribe"), ("cancle", "cancel"), ("cancell", "cancel"),
     ("qiut", "quit"), ("arrte", "arret")],
)
def test_one_slip_away_from_an_opt_out_keyword_is_a_misspelling(word, keyword) -> None:
    assert keywords.is_misspelling(word, keyword)


@pytest.mark.parametrize(
    ("word", "keyword", "why"),
    [("step", "stop", "e is far from o"), ("shop", "stop", "h is far from t"),
     ("top", "stop", "too short"), ("stops", "stop", "s is far from p"),
     ("stomp", "stop", "m is far from o and p"), ("stoop", "stop", "a real word"),
     ("atop", "stop", "a real word"), ("cancer", "cancel", "r is far from l"),
     ("quite", "quit", "e is far from t"), ("quiet", "quit", "e is far from i and t"),
     ("arrest", "arret", "a real word"), ("evoke", "revoke", "a real word"),
     ("stop", "stop", "the keyword itself"), ("sotpp", "stop", "two slips"),
     ("end", "end", "too short"), ("stöp", "stop", "not ASCII")],
)
def test_far_keys_short_words_and_real_words_are_not_misspellings(word, keyword, why) -> None:
    assert not keywords.is_misspelling(word, keyword), why


@pytest.mark.parametrize("word", sorted(revocation_phrases.NOT_MISSPELLINGS))
def test_every_listed_real_word_would_otherwise_be_read_as_a_keyword(word, monkeypatch) -> None:
    targets = [keywords._key(d)[0] for d in revocation_phrases.MISSPELLING_TARGETS]
    monkeypatch.setattr(revocation_phrases, "NOT_MISSPELLINGS", frozenset())
    assert any(keywords.is_misspelling(word, target) for target in targets)


def test_misspellings_count_only_for_opt_out_keywords() -> None:
    assert classify("strat").kind == REPLY  # START: an opt-in must be explicit
    assert classify("hepl").kind == REPLY  # HELP: a person answers it


# ---- per-registration keywords -------------------------------------------------------------------

def test_registration_words_add_to_the_defaults_and_match_the_whole_message() -> None:
    extra = KeywordSet.from_dict({"opt_out": ["إلغاء", "توقف"], "help": ["مساعدة"]})
    assert classify(" توقف!! ", extra) == Classification(
        OPT_OUT, "registration keyword 'توقف'", "توقف", "ar")
    assert classify("الغاء", extra).kind == OPT_OUT  # hamza is optional, like accents
    assert classify("مساعدة", extra).kind == HELP
    assert classify("STOP", extra).kind == OPT_OUT  # the defaults still apply
    assert classify("أريد إلغاء الاشتراك", extra).kind == POSSIBLE  # in a longer message
    assert classify("توقف").kind == REPLY  # not without the registration's words


def test_keyword_set_from_dict_freezes_each_kind() -> None:
    extra = KeywordSet.from_dict({"opt_out": ["alto ya", "Fin"], "opt_in": ["SI"]})
    assert extra == KeywordSet(opt_out=frozenset({"alto ya", "Fin"}), opt_in=frozenset({"SI"}))
    assert classify("fin.", extra).kind == OPT_OUT
    assert classify("Sí", extra).kind == OPT_IN


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"optout": ["x"]}, "unknown keyword kind 'optout'"),
        ({"opt_out": "STOP"}, "opt_out: expected a list of words, got 'STOP'"),
        ({"help": ["ok", 3]}, "help: expected words, got 3"),
        ({"opt_out": ["  "]}, "opt_out keyword '  ' has no letters or digits"),
        ({"opt_out": ["!!!"]}, "opt_out keyword '!!!' has no letters or digits"),
        ({"opt_in": ["Stop"]}, "opt_in keyword 'Stop' already reads as opt_out"),
        ({"help": ["remove me"]}, "help keyword 'remove me' already reads as opt_out"),
        ({"opt_in": ["cancel it"]}, "opt_in keyword 'cancel it' already reads as possible_opt_out"),
        ({"opt_out": ["yes"]}, "opt_out keyword 'yes' already reads as opt_in"),
        ({"opt_in": ["info"]}, "opt_in keyword 'info' already reads as help"),
        ({"opt_out": ["fin"], "help": ["FIN"]}, "help keyword 'FIN' is also listed under opt_out"),
        (["STOP"], "keywords: expected a mapping"),
    ],
)
def test_keyword_set_refuses_a_bad_entry_and_names_it(data, message) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(")):
        KeywordSet.from_dict(data)


def test_keyword_set_built_directly_is_validated_too() -> None:
    with pytest.raises(ValueError, match="opt_in keyword 'stop'"):
        KeywordSet(opt_in=frozenset({"stop"}))


# ---- properties ----------------------------------------------------------------------------------

NOISE = st.text(alphabet=" \t\n.,!?;:-*()[]\"'…🛑😡👍🙏❤️", max_size=6)
STANDARD = list(revocation_phrases.KEYWORDS)
FILLERS = sorted(revocation_phrases.FILLERS)


@st.composite
def noisy(draw: st.DrawFn, word: str) -> str:
    """`word` in random case, partly fullwidth, with punctuation, spaces and emoji around it."""
    chars = []
    for char in word:
        char = char.upper() if draw(st.booleans()) else char.lower()
        if char.isascii() and char.isalpha() and draw(st.booleans()):
            char = chr(ord(char) + 0xFEE0)  # the fullwidth form
        chars.append(char)
    return draw(NOISE) + "".join(chars) + draw(NOISE)


@given(st.data(), st.sampled_from(STANDARD))
def test_case_width_punctuation_spaces_and_emoji_around_a_keyword_never_change_it(data, entry):
    verdict = classify(data.draw(noisy(entry.display)))
    assert (verdict.kind, verdict.matched) == (entry.kind, classify(entry.display).matched)


@given(st.data(), st.sampled_from([e for e in STANDARD if e.kind == "opt_out"]),
       st.lists(st.sampled_from(FILLERS), max_size=3))
def test_courtesy_words_around_an_opt_out_keyword_keep_it_an_opt_out(data, entry, courtesy):
    words = [*courtesy, entry.display]
    words = data.draw(st.permutations(words))
    text = "".join(data.draw(noisy(word)) + " " for word in words)
    assert classify(text).kind == OPT_OUT


@given(st.data(), st.sampled_from([e.display for e in STANDARD if e.kind == "opt_out"]),
       st.lists(st.sampled_from([e.display for e in STANDARD if e.kind != "opt_out"]),
                min_size=1, max_size=3))
def test_opt_out_takes_precedence_over_help_and_opt_in_in_the_same_message(data, opt_out, others):
    words = data.draw(st.permutations([opt_out, *others]))
    text = " ".join(data.draw(noisy(word)) for word in words)
    assert classify(text).kind == OPT_OUT


# Everyday words, including the near misses of the keywords; none is a signal, none a keyword,
# and no sequence of them is a revocation phrase.
ORDINARY = ["i", "you", "we", "will", "see", "the", "store", "tomorrow", "pay", "bill", "at",
            "of", "week", "weekend", "stopwatch", "step", "shop", "top", "stoop", "atop", "spot",
            "post", "pots", "tops", "send", "sending", "spend", "ending", "endless", "pending",
            "trend", "calendar", "unstoppable", "nonstop", "backstop", "stopped", "stops",
            "cancer", "quite", "quiet", "into", "alot", "arrest", "evoke", "great", "monday",
            "appointment", "call", "later", "what", "time", "is", "it", "my", "address",
            "please", "thanks", "ok", "text", "me", "message", "startup", "helpful", "yesterday",
            "information", "weekend", "blend", "friend", "mensaje", "merci", "rendez", "vous"]


@given(st.lists(st.tuples(st.sampled_from(ORDINARY), st.sampled_from([" ", ", ", ". ", "! ",
                                                                     "? ", " 😀 "])),
                max_size=12), st.booleans())
def test_text_of_ordinary_words_without_any_signal_is_never_opt_out_but_a_reply(pieces, upper):
    text = "".join(word + sep for word, sep in pieces)
    verdict = classify(text.upper() if upper else text)
    assert verdict.kind == REPLY, verdict.reason


def _no_latin_letter(char: str) -> bool:
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", char).casefold())
    return not any("a" <= c <= "z" for c in folded) and char not in revocation_phrases.STOP_EMOJI


@given(st.text(alphabet=st.characters(codec="utf-8").filter(_no_latin_letter), max_size=40))
def test_without_latin_letters_or_registration_words_a_text_is_always_a_reply(text):
    assert classify(text).kind == REPLY


@given(st.text(max_size=200))
def test_classify_is_total_and_every_verdict_explains_itself(text):
    verdict = classify(text)
    assert isinstance(verdict.kind, InboundClass) and verdict.reason
    assert (verdict.matched is None) == (verdict.kind == REPLY)
    assert verdict.language in (None, "en", "es", "fr", "ar", "he")


NOT_COURTESY = [word for word in ORDINARY if word not in revocation_phrases.FILLERS]


@given(st.lists(st.sampled_from(NOT_COURTESY), min_size=1, max_size=8), st.booleans(),
       st.integers(0, 8))
def test_yes_start_help_and_end_inside_a_longer_message_are_never_keywords(words, upper, at):
    for keyword in ("yes", "start", "help", "info", "end"):
        message = [*words[:at], keyword, *words[at:]]
        text = " ".join(message)
        assert classify(text.upper() if upper else text).kind == REPLY, text


ARABIC_LETTERS = st.characters(min_codepoint=0x0621, max_codepoint=0x064A,
                               exclude_characters="\u0640")  # tatweel is dropped by normalization
ARABIC_WORDS = st.text(alphabet=ARABIC_LETTERS, min_size=2, max_size=8)


@given(st.data(), ARABIC_WORDS)
def test_a_registration_opt_out_word_matches_with_any_noise_around_it(data, word):
    extra = KeywordSet(opt_out=frozenset({word}))
    verdict = classify(data.draw(NOISE) + word + data.draw(NOISE), extra)
    assert (verdict.kind, verdict.matched, verdict.language) == (OPT_OUT, word, "ar")


@given(st.lists(st.sampled_from(["stop", "STOP", "help", "yes", "no", "mas", "please", "text",
                                 "me", "remove", "leave", "alone", "توقف", "إلغاء", "شكرا",
                                 "مساعدة", "weekend", ".", ","]), max_size=8),
       st.dictionaries(st.sampled_from(["opt_out", "opt_in", "help"]),
                       st.lists(st.sampled_from(["توقف", "إلغاء", "مساعدة", "leave", "me alone",
                                                 "no", "please", "weekend"]), max_size=3)))
def test_registration_words_never_turn_an_opt_out_into_anything_else(words, data):
    try:
        extra = KeywordSet.from_dict(data)
    except ValueError:
        assume(False)
        return
    text = " ".join(words)
    if classify(text).kind == OPT_OUT:
        assert classify(text, extra).kind == OPT_OUT
