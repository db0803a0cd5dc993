"""Classifying an inbound text: opt-out, opt-in, help, possible opt-out, or an ordinary reply.

Pure and total: `classify` never raises on any text and does no I/O. The word and phrase tables
are in `revocation_phrases`; this module holds the rules, applied in this order:

1. **Normalize.** NFKC (fullwidth letters), case folding, accents dropped ("ARRÊT" = "arret",
   "no más" = "no mas"), zero-width and bidi controls and Arabic tatweel dropped, emoji and
   punctuation around words ignored, "S.T.O.P" read as "stop". Sentence punctuation (. ! ? new
   line) and clause punctuation (, ; :) are kept as boundaries.
2. **Keyword message.** When the whole message is keywords plus courtesy words ("Stop. Thank you",
   "STOP please", "I said STOP", "yes!!"), it is that keyword. With several kinds, opt-out wins,
   then help, then opt-in (an opt-in must be unambiguous; help changes nothing). Opt-in and help
   count *only* as the whole message: "yes I'll be there" is a reply. A STOP-like keyword that is
   a sentence of its own ("Stop. Who is this?") is an opt-out too; CANCEL, END, QUIT and "para"
   are not, as sentences ("Cancel. I'll come Tuesday." is about an appointment).
3. **Misspellings** of opt-out keywords count like the keyword, by a deliberately narrow rule: a
   word of at least 4 characters one slip away from the keyword: two neighbouring letters swapped
   ("stpo", "cancle"), a letter left out ("unsubscibe"), a letter doubled or held down ("stopp",
   "stoooop"), or a letter replaced or added by a key *next to it on a QWERTY keyboard* ("srop",
   "st0p"). A distant key is not a slip, which is why "step" and "shop" are not STOP; "top" is too
   short; the real words the rule still reaches ("stoop", "atop", "arrest") are listed in
   `NOT_MISSPELLINGS`. Only opt-out keywords get this tolerance: opt-in must be explicit.
   A short English message (at most six words, one clause, not a question) that *opens* with
   one of those STOP-like keywords and goes on with a few words ("Stop this number", "STOP
   sending these pls", "Stop calling me") is an opt-out too, unless the next word makes it the
   everyday verb ("Stop by the store").
4. **Revocation phrases** anywhere in the message ("please stop texting me", "opt me out", "remove
   me from your list", "dejen de enviarme mensajes", "ne plus recevoir") are opt-outs, also with a
   misspelled keyword in them ("plz stpo texting me"). A phrase right after a word that negates it
   or makes it not ours ("don't stop texting me", "I will stop texting"), one that must open its
   sentence but does not ("I have no more messages"), or one that only limits ("don't text me
   before 9") is possible_opt_out instead.
5. **Possible opt-out.** A message that is none of the above but contains a *signal* as a whole
   word: stop, unsubscribe, cancel, quit, remove, revoke, opt out, spam, "wrong number", "not
   interested", alto, baja, cancelar, arrêt…, a misspelled opt-out keyword, a registration's
   opt-out word, or a stop-sign emoji. It may be a revocation ("can you stop calling my work
   number") or not ("I will stop by the store tomorrow to pay"): a supervisor decides.
6. **Reply** is everything else. Words that merely *contain* a keyword ("Stopwatch", "weekend",
   "unstoppable") are other words, and the everyday keywords END, YES, INFO, HELP, START and
   Spanish "para" are not signals inside a longer message ("I'll send it at the end of the week").

Per-registration words (`KeywordSet`, e.g. Arabic "إلغاء") are added to the defaults and matched
the same way, as the whole message after normalization; an extra opt-out word is also a signal in
a longer message. They never weaken an opt-out: a registration's opt-in or help word that reads
as an opt-out (or as another kind) by default is refused.

`Classification.matched` is the table entry that decided (the keyword's display form, the phrase
as it stands in the normalized text, or the signal), not the raw text.
"""

from __future__ import annotations

import enum
import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from proactive_sms.domain import revocation_phrases as tables

# One module a little over 400 lines on purpose: normalization, the misspelling rule and the
# classifier are only ever used together, and the docstring above is the rule book. The tables
# (the part that grows) live in revocation_phrases.


class InboundClass(enum.StrEnum):
    OPT_OUT = "opt_out"  # a revocation: the number goes on the DNC list at once
    OPT_IN = "opt_in"  # an explicit START/YES/UNSTOP: the opt-out entry is removed
    HELP = "help"  # HELP/INFO: answered with the registration's help text
    POSSIBLE_OPT_OUT = "possible_opt_out"  # might be a revocation: a supervisor reviews it
    REPLY = "reply"  # an ordinary reply: a conversation (sms_messaging) or recorded (external)


@dataclass(frozen=True)
class Classification:
    kind: InboundClass
    reason: str  # for a person: "exact keyword STOP", "misspelling 'stpo' of STOP", ...
    matched: str | None  # the keyword, phrase or signal that decided; None for a reply
    language: str | None  # "en", "es", "fr", "ar" when known


_RANK = {InboundClass.OPT_OUT: 3, InboundClass.HELP: 2, InboundClass.OPT_IN: 1}
_LANGUAGE_NAMES = {"es": "Spanish", "fr": "French", "ar": "Arabic", "he": "Hebrew"}

# ---- normalization -------------------------------------------------------------------------------

BOUNDARY = "."  # the token for the end of a sentence (. ! ? new line)
COMMA = ","  # the token for a pause inside a sentence (, ; :)
_BOUNDARIES = (BOUNDARY, COMMA)
_SENTENCE_PUNCTUATION = frozenset(".!?\n¡¿؟。")
_CLAUSE_PUNCTUATION = frozenset(",;:،؛")
_APOSTROPHES = frozenset("'’‘`´ʼ")
# French elisions: "m'envoyer" is two words; any other apostrophe is an English contraction.
_ELIDED = frozenset({"l", "m", "d", "j", "n", "s", "t", "c", "qu", "lorsqu", "puisqu", "jusqu"})
_DROPPED_CATEGORIES = frozenset({"Mn", "Me", "Cf"})  # accents, enclosing marks, invisible controls


def _is_word_char(char: str) -> bool:
    return unicodedata.category(char)[0] in "LNM"


def tokens(text: str) -> tuple[str, ...]:
    """The normalized words of `text`, with BOUNDARY and COMMA tokens where punctuation was."""
    folded = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", text).casefold())
    folded = "".join(c for c in folded if c != "\u0640"  # Arabic tatweel (a stretching stroke)
                     and unicodedata.category(c) not in _DROPPED_CATEGORIES)
    out: list[str] = []
    word: list[str] = []
    for index, char in enumerate(folded):
        if _is_word_char(char):
            word.append(char)
            continue
        following = folded[index + 1] if index + 1 < len(folded) else ""
        if char in _APOSTROPHES and word and following and _is_word_char(following) \
                and "".join(word) not in _ELIDED:
            continue  # "don't" → "dont"
        if word:
            out.append("".join(word))
            word.clear()
        mark = BOUNDARY if char in _SENTENCE_PUNCTUATION else \
            COMMA if char in _CLAUSE_PUNCTUATION else None
        if mark is not None and out:
            if out[-1] not in _BOUNDARIES:
                out.append(mark)
            elif mark == BOUNDARY:
                out[-1] = BOUNDARY
    if word:
        out.append("".join(word))
    while out and out[-1] in _BOUNDARIES:
        out.pop()
    words = [t for t in out if t not in _BOUNDARIES]
    if len(words) >= 3 and all(len(w) == 1 for w in words):  # "S T O P", "s.t.o.p"
        return ("".join(words),)
    return tuple(out)


def normalize_text(text: str) -> str:
    """The normalized form of `text` that the tables are written in ("Stop!! 🛑" → "stop")."""
    return " ".join(tokens(text))


def _key(text: str) -> tuple[str, ...]:
    return tuple(t for t in tokens(text) if t not in _BOUNDARIES)


# ---- misspellings --------------------------------------------------------------------------------

def _qwerty_neighbours() -> dict[str, frozenset[str]]:
    rows = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")
    near: dict[str, set[str]] = {key: set() for row in rows for key in row}
    for r, row in enumerate(rows):
        for c, key in enumerate(row):
            # the same row, and the two keys below (each row sits half a key right of the last)
            adjacent = [row[c + 1]] if c + 1 < len(row) else []
            if r + 1 < len(rows):
                adjacent += [rows[r + 1][b] for b in (c - 1, c) if 0 <= b < len(rows[r + 1])]
            for other in adjacent:
                near[key].add(other)
                near[other].add(key)
    return {key: frozenset(keys) for key, keys in near.items()}


_NEAR = _qwerty_neighbours()


def _near(a: str, b: str) -> bool:
    return b in _NEAR.get(a, ())


def _runs(word: str) -> list[tuple[str, int]]:
    return [(m.group(1), len(m.group(0))) for m in re.finditer(r"(.)\1*", word)]


def is_misspelling(word: str, keyword: str) -> bool:
    """Whether `word` is one slip away from `keyword` (rule 3 of the module docstring)."""
    if word == keyword or len(word) < 4 or len(keyword) < 4 or word in tables.NOT_MISSPELLINGS:
        return False
    if not (word.isascii() and word.isalnum()):
        return False
    word_runs, key_runs = _runs(word), _runs(keyword)
    if [c for c, _ in word_runs] == [c for c, _ in key_runs] and all(
            w >= k for (_, w), (_, k) in zip(word_runs, key_runs, strict=True)):
        return True  # letters doubled or held down: "stopp", "stoooop"
    if len(word) == len(keyword):
        diffs = [i for i, (a, b) in enumerate(zip(word, keyword, strict=True)) if a != b]
        if len(diffs) == 1:
            return _near(keyword[diffs[0]], word[diffs[0]])
        return (len(diffs) == 2 and diffs[1] == diffs[0] + 1
                and word[diffs[0]] == keyword[diffs[1]] and word[diffs[1]] == keyword[diffs[0]])
    if len(word) == len(keyword) - 1:
        return any(keyword[:i] + keyword[i + 1:] == word for i in range(len(keyword)))
    if len(word) == len(keyword) + 1:
        return any(word[:i] + word[i + 1:] == keyword and any(
            _near(word[i], word[j]) for j in (i - 1, i + 1) if 0 <= j < len(word))
            for i in range(len(word)))
    return False


# ---- the tables, compiled once -------------------------------------------------------------------

@dataclass(frozen=True)
class _Keyword:
    display: str
    kind: InboundClass
    language: str | None
    source: str  # "standard", "language" or "registration"


def _default_index() -> dict[tuple[str, ...], _Keyword]:
    index: dict[tuple[str, ...], _Keyword] = {}
    for entry in tables.KEYWORDS:
        index.setdefault(_key(entry.display), _Keyword(
            entry.display, InboundClass(entry.kind), entry.language,
            "standard" if entry.standard else "language"))
    return index


_DEFAULTS = _default_index()
_MISSPELLING_TARGETS = tuple((_key(d)[0], _DEFAULTS[_key(d)]) for d in tables.MISSPELLING_TARGETS)
_FILLERS = frozenset(_key(f) for f in tables.FILLERS)
_NEGATIVE_FILLERS = frozenset(_key(f) for f in tables.NEGATIVE_FILLERS)
_FILLER_WORDS = frozenset(f[0] for f in _FILLERS if len(f) == 1)
_PHRASES = tuple((re.compile(rf"(?<!\S)(?:{p.pattern})(?!\S)"), p) for p in tables.PHRASES)
_SIGNALS = tuple((" ".join(_key(s)), lang) for s, lang in tables.SIGNALS)
_SENTENCE_KEYWORDS = frozenset(_DEFAULTS[_key(d)].display for d in tables.SENTENCE_KEYWORDS)
SHORT_MESSAGE_WORDS = 6  # a message opening with STOP is an order when it is this short


@dataclass(frozen=True)
class _Lexicon:
    """The keywords in force: the defaults, plus a registration's words."""

    index: Mapping[tuple[str, ...], _Keyword]
    vocabulary: frozenset[str]  # every word that can be part of a keyword message
    longest: int  # the most words in one keyword or courtesy phrase

    @classmethod
    def of(cls, index: Mapping[tuple[str, ...], _Keyword]) -> _Lexicon:
        entries = [*index, *_FILLERS, *_NEGATIVE_FILLERS]
        return cls(index, frozenset(w for entry in entries for w in entry),
                   max(map(len, entries)))


_DEFAULT_LEXICON = _Lexicon.of(_DEFAULTS)


@functools.lru_cache(maxsize=4096)
def _misspelled(word: str) -> _Keyword | None:
    return next((keyword for target, keyword in _MISSPELLING_TARGETS
                 if is_misspelling(word, target)), None)


# ---- per-registration keywords -------------------------------------------------------------------

_KINDS = {"opt_out": InboundClass.OPT_OUT, "opt_in": InboundClass.OPT_IN,
          "help": InboundClass.HELP}


@dataclass(frozen=True)
class KeywordSet:
    """A registration's own words, added to the defaults (e.g. Arabic opt-out words).

    Each word is matched like a default keyword: as the whole message, after normalization.
    Building one validates every word (ValueError naming the entry)."""

    opt_out: frozenset[str] = field(default_factory=frozenset)
    opt_in: frozenset[str] = field(default_factory=frozenset)
    help: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        for name in _KINDS:
            value = getattr(self, name)
            if isinstance(value, str) or not isinstance(value, Iterable):
                raise ValueError(f"{name}: expected a list of words, got {value!r}")
            for word in value:
                if not isinstance(word, str):
                    raise ValueError(f"{name}: expected words, got {word!r}")
            object.__setattr__(self, name, frozenset(value))
        _lexicon(self)  # validates every word

    @classmethod
    def from_dict(cls, data: Mapping[str, Iterable[str]]) -> KeywordSet:
        """From {"opt_out": [...], "opt_in": [...], "help": [...]}; ValueError names a bad entry."""
        if not isinstance(data, Mapping):
            raise ValueError(f"keywords: expected a mapping of kind to words, got {data!r}")
        for name in data:
            if name not in _KINDS:
                raise ValueError(f"unknown keyword kind {name!r} (expected one of "
                                 f"{', '.join(_KINDS)})")
        return cls(**dict(data))  # __post_init__ checks and freezes the lists


def _script_language(word: str) -> str | None:
    """The language of a registration's word when its script tells it (Arabic, Hebrew)."""
    letter = next((c for c in word if unicodedata.category(c).startswith("L")), "")
    name = unicodedata.name(letter, "")
    return "ar" if name.startswith("ARABIC") else "he" if name.startswith("HEBREW") else None


def _lexicon(extra: KeywordSet | None) -> _Lexicon:
    return _DEFAULT_LEXICON if extra is None else _extra_lexicon(extra)


@functools.lru_cache(maxsize=256)
def _extra_lexicon(extra: KeywordSet) -> _Lexicon:
    index = dict(_DEFAULTS)
    added: dict[tuple[str, ...], _Keyword] = {}
    for name, kind in _KINDS.items():
        for word in sorted(getattr(extra, name)):
            key = _key(word)
            if not key:
                raise ValueError(f"{name} keyword {word!r} has no letters or digits")
            default = classify(word)
            if kind == InboundClass.OPT_OUT and default.kind in (InboundClass.OPT_IN,
                                                                 InboundClass.HELP) or \
                    kind != InboundClass.OPT_OUT and default.kind not in (kind,
                                                                          InboundClass.REPLY):
                raise ValueError(f"{name} keyword {word!r} already reads as {default.kind} "
                                 f"({default.reason})")
            if key in added and added[key].kind != kind:
                raise ValueError(f"{name} keyword {word!r} is also listed under "
                                 f"{added[key].kind}")
            added[key] = _Keyword(word.strip(), kind, _script_language(word), "registration")
    index.update((key, keyword) for key, keyword in added.items() if key not in _DEFAULTS)
    return _Lexicon.of(index)


# ---- classification ------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Hit:
    keyword: _Keyword | None  # None for a courtesy word
    words: tuple[str, ...]  # as they stand in the message
    misspelled: bool = False


def _cover(words: tuple[str, ...], lexicon: _Lexicon, negative: bool) -> list[_Hit] | None:
    """The best reading of `words` as nothing but keywords and courtesy words, or None.

    Every segmentation is considered, so a registration's words can only add readings, never
    hide an opt-out; the best reading is the one with the highest-ranking keyword."""
    if not words or any(w not in lexicon.vocabulary and _misspelled(w) is None for w in words):
        return None
    best: list[tuple[int, list[_Hit]] | None] = [None] * len(words) + [(0, [])]
    for start in range(len(words) - 1, -1, -1):
        options: list[tuple[int, list[_Hit]]] = []
        for end in range(start + 1, min(len(words), start + lexicon.longest) + 1):
            rest, segment = best[end], words[start:end]
            hit: _Hit | None = None
            if rest is None:
                continue
            if segment in lexicon.index:
                hit = _Hit(lexicon.index[segment], segment)
            elif segment in _FILLERS or (negative and segment in _NEGATIVE_FILLERS):
                hit = _Hit(None, segment)
            elif len(segment) == 1 and (keyword := _misspelled(segment[0])) is not None:
                hit = _Hit(keyword, segment, misspelled=True)
            if hit is not None:
                rank = _RANK[hit.keyword.kind] if hit.keyword else 0
                options.append((max(rank, rest[0]), [hit, *rest[1]]))
        best[start] = max(options, key=lambda option: option[0], default=None)
    result = best[0]
    return result[1] if result is not None and result[0] > 0 else None


def _keyword_message(words: tuple[str, ...], lexicon: _Lexicon) -> list[_Hit] | None:
    hits = _cover(words, lexicon, negative=False)
    if hits is None or _strongest(hits).kind != InboundClass.OPT_OUT:
        with_no = _cover(words, lexicon, negative=True)  # "No. Stop." but never "no yes"
        if with_no is not None and _strongest(with_no).kind == InboundClass.OPT_OUT:
            return with_no
    return hits


def _strongest(hits: list[_Hit]) -> _Keyword:
    return max((h.keyword for h in hits if h.keyword), key=lambda k: _RANK[k.kind])


def _from_keywords(hits: list[_Hit], sentence_only: bool = False) -> Classification:
    keyword = _strongest(hits)
    decisive = next(h for h in hits if h.keyword == keyword)
    if decisive.misspelled:
        reason = f"misspelling '{decisive.words[0]}' of {keyword.display}"
    elif keyword.source == "registration":
        reason = f"registration keyword '{keyword.display}'"
    elif keyword.language in _LANGUAGE_NAMES:
        reason = f"{_LANGUAGE_NAMES[keyword.language]} keyword '{keyword.display}'"
    else:
        reason = f"exact keyword {keyword.display}"
    others = [h for h in hits if h is not decisive]
    weaker = sorted({h.keyword.display for h in others
                     if h.keyword and h.keyword.kind != keyword.kind})
    courtesy = " ".join(w for h in others if h.keyword is None for w in h.words)
    if weaker:
        reason += f" ({keyword.kind} takes precedence over {', '.join(weaker)})"
    elif courtesy:
        reason += f" with '{courtesy}'"
    if sentence_only:
        reason += " as a sentence of its own"
    return Classification(keyword.kind, reason, keyword.display, keyword.language)


def _sentences(all_tokens: tuple[str, ...]) -> list[tuple[str, ...]]:
    sentences: list[list[str]] = [[]]
    for token in all_tokens:
        if token == BOUNDARY:
            sentences.append([])
        elif token != COMMA:
            sentences[-1].append(token)
    return [tuple(s) for s in sentences if s]


def _find_phrase(text: str) -> tuple[re.Match[str], tables.Phrase, str | None] | None:
    """The first clear revocation phrase, else the first unclear one with why it is unclear."""
    unclear = None
    for pattern, phrase in _PHRASES:
        for match in pattern.finditer(text):
            before = text[:match.start()].split()
            previous = before[-1] if before else None
            doubt = phrase.review
            if previous in phrase.guard or (phrase.sentence_start and previous is not None
                                            and previous not in _BOUNDARIES
                                            and previous not in _FILLER_WORDS):
                doubt = f"after '{previous}', not clearly a revocation"
            if doubt is None:
                return match, phrase, None
            unclear = unclear or (match, phrase, doubt)
    return unclear


def classify(text: str, extra: KeywordSet | None = None) -> Classification:
    """How an inbound text is to be handled, and why (the rules are in the module docstring).

    `extra` holds a registration's own words; this is the hook `--registration CODE` uses."""
    lexicon = _lexicon(extra)
    all_tokens = tokens(text)
    words = tuple(t for t in all_tokens if t not in _BOUNDARIES)

    hits = _keyword_message(words, lexicon)
    if hits is not None and _strongest(hits).kind == InboundClass.OPT_OUT:
        return _from_keywords(hits)
    if hits is None:
        for sentence in _sentences(all_tokens):
            sentence_hits = _keyword_message(sentence, _DEFAULT_LEXICON)
            if sentence_hits and _strongest(sentence_hits).display in _SENTENCE_KEYWORDS:
                return _from_keywords(sentence_hits, sentence_only=True)

    corrections = {w: k for w in words if w not in lexicon.index and (k := _misspelled(w))}
    found, corrected = _find_phrase(" ".join(all_tokens)), ""
    if corrections and (found is None or found[2] is not None):
        retry = _find_phrase(" ".join(_key(corrections[t].display)[0] if t in corrections else t
                                      for t in all_tokens))
        if retry is not None and (found is None or retry[2] is None):
            found, corrected = retry, f" (reading misspelled '{', '.join(corrections)}')"
    if found is not None and found[2] is None:
        match, phrase, _ = found
        language = _LANGUAGE_NAMES.get(phrase.language, "")
        return Classification(InboundClass.OPT_OUT, f"{language} revocation phrase "
                              f"'{match.group(0)}'{corrected}".strip(), match.group(0),
                              phrase.language)
    leading = _leading_keyword(all_tokens, text)
    if leading is not None:
        return Classification(InboundClass.OPT_OUT, f"short message opening with "
                              f"{leading.display}", leading.display, leading.language)
    if hits is not None:  # a keyword message of help or opt-in
        return _from_keywords(hits)
    if found is not None:
        match, phrase, doubt = found
        return Classification(InboundClass.POSSIBLE_OPT_OUT, f"revocation phrase "
                              f"'{match.group(0)}' ({doubt})", match.group(0), phrase.language)
    return _signal(text, words, lexicon, corrections)


def _leading_keyword(all_tokens: tuple[str, ...], text: str) -> _Keyword | None:
    """The STOP-like keyword a short one-clause message opens with (rule 2), if any."""
    words = all_tokens
    while words and words[-1] in _BOUNDARIES:  # "Stop this number!" is one clause
        words = words[:-1]
    if (not 1 < len(words) <= SHORT_MESSAGE_WORDS or any(w in _BOUNDARIES for w in words)
            or text.rstrip().endswith("?")):
        return None
    for size in (2, 1):
        keyword = _DEFAULTS.get(words[:size])
        if (keyword is not None and keyword.kind == InboundClass.OPT_OUT
                and keyword.language == "en" and keyword.display in _SENTENCE_KEYWORDS):
            rest = words[size:]
            return None if rest and rest[0] in tables.EVERYDAY_AFTER_STOP else keyword
    return None


def _signal(text: str, words: tuple[str, ...], lexicon: _Lexicon,
            corrections: Mapping[str, _Keyword]) -> Classification:
    """Possible opt-out when the message holds a signal (rule 5), else a reply."""
    possible = InboundClass.POSSIBLE_OPT_OUT
    padded = f" {' '.join(words)} "
    for signal, language in _SIGNALS:
        if f" {signal} " in padded:
            return Classification(possible, f"contains '{signal}' in a longer message", signal,
                                  language)
    for key, keyword in lexicon.index.items():
        if keyword.source == "registration" and keyword.kind == InboundClass.OPT_OUT and \
                f" {' '.join(key)} " in padded:
            return Classification(possible, f"contains registration opt-out word "
                                  f"'{keyword.display}' in a longer message", keyword.display,
                                  keyword.language)
    for word, keyword in corrections.items():
        return Classification(possible, f"contains '{word}', a likely misspelling of "
                              f"{keyword.display}, in a longer message", keyword.display,
                              keyword.language)
    emoji = next((c for c in text if c in tables.STOP_EMOJI), None)
    if emoji is not None:
        return Classification(possible, f"stop-sign emoji {emoji}", emoji, None)
    everyday = next((_DEFAULTS[(w,)] for w in words if (w,) in _DEFAULTS), None)
    if everyday is not None:
        return Classification(InboundClass.REPLY, f"'{everyday.display}' is a keyword only as "
                              "the whole message", None, None)
    return Classification(InboundClass.REPLY, "no keyword, revocation phrase or opt-out signal",
                          None, None)
