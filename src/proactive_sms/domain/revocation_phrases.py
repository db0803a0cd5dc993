"""The word and phrase tables behind inbound classification (see `keywords` for the rules).

Keywords, courtesy words and signals are written as people type them and normalized when
`keywords` compiles them; `display` is what `Classification.matched` reports. Phrase patterns are
regular expressions over the *normalized* text that `keywords.normalize_text` produces: case
folded, accents removed ("más" → "mas", "arrêt" → "arret"), English contractions closed up
("don't" → "dont"), French elisions split ("m'envoyer" → "m envoyer"), hyphens and other symbols
turned into spaces, sentence punctuation (. ! ? new line) kept as a "." token and clause
punctuation (, ; :) as a "," token, so that a phrase can require the end of a sentence.

The tables are data: adding a word or a phrase needs no change to the code; add a row for it to
tests/domain/inbound_corpus.py.
"""

from __future__ import annotations

from dataclasses import dataclass

OPT_OUT = "opt_out"
OPT_IN = "opt_in"
HELP = "help"


@dataclass(frozen=True)
class KeywordEntry:
    """A keyword that classifies a message when it (with courtesy words) is the whole message."""

    display: str  # what `matched` reports: "STOP", "ARRÊT", "no más"
    kind: str  # opt_out, opt_in or help
    language: str  # "en", "es", "fr"
    standard: bool  # one of REFERENCE.md's standard keywords (the rest are "any reasonable means")


def _entries(kind: str, language: str, standard: bool, *displays: str) -> list[KeywordEntry]:
    return [KeywordEntry(display, kind, language, standard) for display in displays]


KEYWORDS: tuple[KeywordEntry, ...] = (
    # REFERENCE.md: the standard keywords. "OPT-OUT" and "OPT OUT" normalize alike.
    *_entries(OPT_OUT, "en", True, "STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "CANCEL", "END",
              "QUIT", "REVOKE", "OPTOUT", "OPT OUT"),
    # Any reasonable means: single words and short phrases that are revocations on their own.
    *_entries(OPT_OUT, "en", False, "REMOVE", "UNSUB", "NO MORE"),
    *_entries(OPT_OUT, "fr", True, "ARRÊT"),  # Canada; "ARRET" is the same word once normalized
    *_entries(OPT_IN, "en", True, "START", "YES", "UNSTOP"),
    *_entries(HELP, "en", True, "HELP", "INFO"),
    # Any reasonable means: the words Spanish and French speakers send for "stop".
    *_entries(OPT_OUT, "es", False, "alto", "para", "parar", "pare", "paren", "basta", "baja",
              "cancelar", "detener", "no más", "no más mensajes", "darme de baja"),
    *_entries(OPT_OUT, "fr", False, "arrête", "arrêter", "arrêtez", "désabonner",
              "désabonnement", "désinscrire", "désinscription", "stop sms"),
    *_entries(HELP, "es", False, "ayuda"),
    *_entries(HELP, "fr", False, "aide"),
    # Opt-in stays explicit (REFERENCE.md: only START/YES/UNSTOP take a number off the list), so no
    # foreign opt-in words by default; a registration can add its own.
)

# Opt-out keywords whose misspellings are opt-outs too (the rule is in keywords.py). English and
# Canadian standard words from 4 letters; other languages only from 6 letters, because short
# Spanish words (para, alto, baja) are everyday words whose neighbours are everyday words too.
MISSPELLING_TARGETS: tuple[str, ...] = (
    "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "QUIT", "REVOKE", "OPTOUT", "ARRÊT",
    "cancelar", "detener", "arrête", "arrêter", "arrêtez", "désabonner", "désinscrire",
)

# Real words that the misspelling rule would otherwise read as a keyword (found by listing every
# variant the rule accepts; tests/domain/test_keywords.py keeps them out).
NOT_MISSPELLINGS: frozenset[str] = frozenset({
    "stoop", "strop", "atop", "stol",  # STOP
    "quoit", "quirt",  # QUIT
    "evoke",  # REVOKE
    "arrest", "arete",  # ARRÊT, arrête ("arête", a ridge)
    "retener",  # detener ("to retain")
})

# Courtesy and emphasis words that may surround a keyword without changing it ("Stop. Thank you",
# "STOP please", "I said STOP", "ya basta", "STOP merci").
FILLERS: frozenset[str] = frozenset({
    "please", "pls", "plz", "plse", "pleas", "thanks", "thank you", "thankyou", "thx", "thnx",
    "ty", "tks", "thank u", "now", "right now", "ok", "okay", "k", "hi", "hello", "hey", "sir",
    "madam", "maam", "again", "already", "asap", "immediately", "just", "i said", "said",
    "and", "oh", "ugh", "omg", "sorry", "dude", "bro", "lol", "seriously", "really",
    "thank you so much",
    "por favor", "porfavor", "xfa", "gracias", "muchas gracias", "ya", "hola", "ahora",
    "svp", "stp", "s il vous plait", "s il te plait", "merci", "merci beaucoup", "bonjour",
    "maintenant", "شكرا", "من فضلك", "لو سمحت",
})
# "no" may stand beside an opt-out ("No. Stop.") but never turns a message into opt-in or help.
NEGATIVE_FILLERS: frozenset[str] = frozenset({"no", "nope", "non", "nah"})

# ---- revocation phrases -------------------------------------------------------------------------
# Regular expressions over the normalized text; each is matched on whole tokens. `guard` lists the
# tokens that, standing right before the phrase, make it not clearly ours ("don't stop texting me",
# "I will stop texting"): the message then goes to review as possible_opt_out instead. A phrase
# that must start its sentence is treated the same way when some other word precedes it.

END = r"(?=$| [.,])"  # the end of a sentence or clause
ME = (r"(?:me|us|my (?:phone |cell |cell phone |mobile )?number|my (?:phone|cell|cell phone|mobile)"
      r"|this (?:phone |cell )?(?:number|phone))")
TEXTS = (r"(?:text messages?|texts?|txts?|messages?|msgs?|msges|sms|smss|sms messages?"
         r"|notifications?|alerts?|promotions?|promos?|marketing|spam|ads)")
STRONG_TEXTS = r"(?:text messages?|texts?|txts?|messages?|msgs?|sms|smss)"
DET = (r"(?:(?:these|the|your|ur|all|any|those|this|all these|all the|all your|all of these"
       r"|all of your|such) )?")
LIST = (r"(?:your |ur |the |this |these |all |my |that )?(?:mailing |contact |texting |text |sms "
        r"|calling |call )?(?:list|lists|texts|messages|database|system)")
LIST_TAIL = rf"(?: (?:from|off|off of|out of) {LIST})?"
STOPV = r"(?:stop|quit|cease|discontinue|halt)"  # not "end": "at the end the messages..."
# What turns "don't text me" into a limit rather than a revocation ("don't text me before 9").
PARTIAL = r"(?:before|after|at|during|until|till|on|between|in the|when|while|unless|if)(?!\S)"

EN_NEGATORS = frozenset({"dont", "didnt", "doesnt", "never", "not", "wont", "cant", "cannot",
                         "shouldnt", "wouldnt"})
EN_IMPERATIVE_GUARD = EN_NEGATORS | {"will", "ill", "i", "we", "gonna", "may", "to"}
EN_NEGATION_GUARD = frozenset({"you", "u", "they", "he", "she", "it", "why", "if", "who", "that"})
EN_WANT_GUARD = EN_NEGATORS | EN_NEGATION_GUARD
ES_GUARD = frozenset({"no", "nunca", "si", "que", "porque", "cuando"})
FR_GUARD = frozenset({"ne", "n", "pas", "jamais", "si"})


@dataclass(frozen=True)
class Phrase:
    pattern: str
    language: str
    guard: frozenset[str] = frozenset()
    # Only clear at the start of a sentence (after courtesy words at most): "No more texts!" but
    # not "I have no more messages from you".
    sentence_start: bool = False
    # Why this phrase always goes to review rather than being an opt-out, if it does.
    review: str | None = None


PHRASES: tuple[Phrase, ...] = (
    # English: imperatives ("stop texting me", "opt me out", "remove me from your list")
    Phrase(rf"{STOPV} (?:texting|txting|texing|messaging|msging|contacting|spamming|bothering"
           rf"|harassing|sending texts to|sending messages to|sending(?: {ME})?) {ME}", "en",
           EN_NEGATORS | {"will", "gonna", "may"}),  # "me" is the object: we are the subject
    Phrase(rf"{STOPV} (?:texting|txting|texing|messaging|msging|contacting|spamming|sending){END}",
           "en", EN_IMPERATIVE_GUARD),
    Phrase(rf"{STOPV} (?:sending (?:{ME} )?|with )?{DET}(?:more )?{TEXTS}", "en",
           EN_IMPERATIVE_GUARD),
    Phrase(rf"{STOPV} (?:it|this|that)(?: now| already| please| pls)?{END}", "en",
           EN_IMPERATIVE_GUARD, sentence_start=True),
    Phrase(rf"(?:can|could|would|will) (?:you|u) (?:please |pls |plz |kindly |just )?stop{END}",
           "en"),
    Phrase(rf"opt {ME} out{LIST_TAIL}", "en", EN_IMPERATIVE_GUARD),
    Phrase(r"(?:i|im|i am|we|were|we are) (?:opt|opting|opted) out", "en", EN_NEGATORS | {"if"}),
    Phrase(r"(?:want|wish|like|need|trying|try|going) to (?:opt out|optout|unsubscribe|unsub"
           r"|be removed|be taken off|stop (?:receiving|getting)|revoke)", "en", EN_WANT_GUARD),
    Phrase(rf"(?:unsubscribe|unsub|unenroll|unenrol|unsuscribe) (?:{ME}{LIST_TAIL}|from (?:this"
           rf"|these|it|all|{LIST}))", "en", EN_IMPERATIVE_GUARD),
    Phrase(rf"(?:remove|delete|erase) {ME}{LIST_TAIL}", "en", EN_IMPERATIVE_GUARD),
    Phrase(r"drop (?:my|this) (?:phone |cell )?number", "en", EN_IMPERATIVE_GUARD),
    Phrase(rf"(?:take|get) {ME} off{END}|(?:take|get) {ME} (?:off|off of|out of) {LIST}", "en",
           EN_IMPERATIVE_GUARD),
    Phrase(rf"(?:put|add|place) {ME} (?:on|to|in) (?:your |the |a )?(?:do not (?:call|text|contact)"
           r"|dont (?:call|text|contact)|dnc|no (?:text|call|contact)|opt out|block) list", "en",
           EN_IMPERATIVE_GUARD),
    Phrase(rf"leave {ME} alone", "en", EN_IMPERATIVE_GUARD, sentence_start=True),
    Phrase(r"(?:lose|loose|forget) (?:my|this) number", "en", EN_IMPERATIVE_GUARD),
    Phrase(r"(?:revoke|withdraw|rescind|retract|cancel) (?:my |all |any |your )?(?:consent"
           r"|permission|authorization|opt in|optin)", "en", EN_NEGATORS),
    Phrase(rf"cancel (?:{DET}|my ){STRONG_TEXTS}", "en", EN_IMPERATIVE_GUARD),
    Phrase(rf"end (?:these|all|your|all these|all your|all of these|all of your) {STRONG_TEXTS}",
           "en", EN_IMPERATIVE_GUARD | {"the", "an", "at", "of"}),
    # "End messages", "cancel texts", "quit the texts": an order when it opens the sentence.
    Phrase(r"(?:end|cancel|quit|stop) (?:the |my )?(?:text messages|texts|txts|messages|msgs)"
           rf"{END}", "en",
           EN_IMPERATIVE_GUARD | {"the", "an", "at", "of"}, sentence_start=True),
    Phrase(rf"(?:stop|quit) (?:receiving|getting) {DET}(?:any |more )?{TEXTS}", "en",
           EN_IMPERATIVE_GUARD),
    # English: negations ("do not text me", "I don't want these texts", "no more messages")
    Phrase(rf"(?:do not|dont|never) (?:you ever |ever )?(?:text|txt|message|msg|sms|contact) {ME}"
           rf"(?! {PARTIAL})", "en", EN_NEGATION_GUARD),
    Phrase(rf"(?:do not|dont|never) (?:ever )?(?:text|txt|message|msg|sms|contact) {ME} {PARTIAL}",
           "en", review="a limit on when, not clearly a revocation"),
    Phrase(r"(?:do not|dont) (?:text|txt|message|msg|contact)(?: again| anymore| any more)?"
           + END, "en", EN_NEGATION_GUARD),
    Phrase(rf"(?:do not|dont|never) (?:ever )?send (?:{ME} )?(?:any )?(?:more )?{TEXTS}", "en",
           EN_NEGATION_GUARD),
    Phrase(rf"(?:do not|dont|no longer) (?:want|wish|need|like) (?:to (?:receive|get) )?"
           rf"{DET}(?:any )?(?:more )?{TEXTS}", "en", EN_NEGATION_GUARD),
    Phrase(r"(?:do not|dont|no longer) (?:want|wish) to be (?:texted|contacted|messaged)", "en",
           EN_NEGATION_GUARD),
    Phrase(rf"(?:do not|dont|no longer) (?:consent|agree) to (?:(?:receive|receiving|get|getting"
           rf"|these|this|your|any|the|being|be) )*(?:{TEXTS}|texted|contacted|messaged)", "en",
           EN_NEGATION_GUARD),
    Phrase(rf"(?:do not|dont|no longer) consent{END}", "en", EN_NEGATION_GUARD),
    Phrase(rf"no more {TEXTS}|no more texting", "en", EN_NEGATION_GUARD, sentence_start=True),
    # Spanish
    Phrase(r"(?:deja|dejen|deje|dejar|paren|pare|para|parar|basta) de (?:enviar|mandar|escribir"
           r"|textear|contactar|molestar)(?:me|nos)?", "es", ES_GUARD),
    Phrase(r"no (?:me|nos) (?:envien|envie|envies|manden|mande|mandes|escriban|escriba|escribas"
           r"|contacten|contacte|molesten|moleste)(?: mas| mensajes| textos| sms)", "es", ES_GUARD),
    Phrase(r"ya no (?:me |nos )?(?:envien|manden|escriban)", "es", ES_GUARD),
    Phrase(r"(?:no|ya no) (?:quiero|deseo) (?:recibir |mas |recibir mas )*"
           r"(?:estos |sus |los |mas )?(?:mensajes|textos|sms|msj|notificaciones)", "es", ES_GUARD),
    Phrase(r"(?:dar|darme|dame|denme|deme|darnos|doy|den) de baja", "es", ES_GUARD),
    Phrase(r"no mas (?:mensajes|textos|sms|msj)", "es", ES_GUARD),
    Phrase(r"(?:borren|borra|borrar|borrame|borrenme|eliminen|elimina|eliminar|eliminenme|quiten"
           r"|quitar|quitenme|quitarme|saquen|sacar|sacarme|saquenme)(?: me)? (?:mi numero"
           r"|de (?:la|su|esta|sus|tu) lista)", "es", ES_GUARD),
    Phrase(r"(?:cancelar|cancelen|cancela|cancele) (?:los |estos |sus |mis |las |estas |la |mi )?"
           r"(?:mensajes|textos|sms|notificaciones|suscripcion)", "es", ES_GUARD),
    Phrase(r"(?:dejame|dejenme|dejeme) en paz", "es", ES_GUARD),
    # French
    Phrase(r"(?:arretez|arrete|arreter|cessez|cesse|cesser|stoppez) (?:de |d )?(?:m |me |nous )?"
           r"(?:envoyer|ecrire|contacter|texter|spammer|harceler|deranger)", "fr", FR_GUARD),
    Phrase(r"(?:arretez|arrete|arreter|stop|stoppez|assez de|cessez) (?:les |vos |ces |des "
           r"|de |d )?(?:sms|messages|textos|texto|pubs?|publicites?|notifications)", "fr",
           FR_GUARD),
    Phrase(rf"plus de (?:sms|textos|pubs?|publicites?){END}", "fr", FR_GUARD),
    Phrase(r"ne plus (?:recevoir|etre contacte|m envoyer|me contacter|m ecrire)"
           r"|ne pas etre (?:contacte|recontacte)", "fr"),
    Phrase(r"ne (?:veux|souhaite|desire) plus (?:recevoir|etre contacte|de (?:sms|messages|textos)"
           r"|d sms|vos (?:sms|messages)|ces (?:sms|messages))", "fr"),
    Phrase(r"(?:ne|n) (?:m |me |nous )?(?:envoyez|ecrivez|contactez|textez) plus", "fr"),
    Phrase(r"(?:me|nous) (?:desabonner|desinscrire)|(?:me|nous) retirer de (?:la|votre|vos|cette"
           r"|ces) listes?", "fr", FR_GUARD),
    Phrase(r"(?:desabonnez|desinscrivez|retirez|supprimez|effacez|enlevez|otez|rayez) (?:moi"
           r"|nous|mon numero|mon nom)", "fr", FR_GUARD),
    Phrase(r"(?:laissez|laisse|foutez|fichez) (?:moi|nous) (?:tranquilles?|en paix|la paix)", "fr",
           FR_GUARD),
)

# ---- possible opt-out signals -------------------------------------------------------------------
# Whole words (never parts of words: "stopwatch", "weekend") that, in a message that is not a
# keyword and holds no revocation phrase, *might* be a revocation: a person decides.
# Deliberately absent: "end", "para", "yes", "info", "help", "start" — everyday words that are
# keywords only as the whole message ("see you at the end of the week", "es para mañana").
SIGNALS: tuple[tuple[str, str], ...] = (
    ("stop", "en"), ("stopall", "en"), ("unsubscribe", "en"), ("unsub", "en"), ("cancel", "en"),
    ("quit", "en"), ("revoke", "en"), ("optout", "en"), ("opt out", "en"), ("remove", "en"),
    ("spam", "en"), ("wrong number", "en"), ("not interested", "en"),
    ("never signed up", "en"), ("didnt sign up", "en"), ("did not sign up", "en"),
    ("never subscribed", "en"), ("how did you get my number", "en"), ("do not call", "en"),
    ("dont call", "en"),
    ("alto", "es"), ("basta", "es"), ("baja", "es"), ("cancelar", "es"), ("detener", "es"),
    ("parar", "es"), ("no mas", "es"), ("numero equivocado", "es"),
    ("arret", "fr"), ("arrete", "fr"), ("arreter", "fr"), ("arretez", "fr"), ("desabonner", "fr"),
    ("desinscrire", "fr"), ("desabonnement", "fr"), ("desinscription", "fr"),
    ("mauvais numero", "fr"),
)
# Opt-out keywords that are an opt-out also as a sentence of their own inside a longer message
# ("Stop. Who is this?"). Not CANCEL, END, QUIT or "para": "Cancel. I'll come Tuesday" is about
# an appointment, "The end." is a sentence, "¿Para?" a question.
# Words after a leading STOP that make it the everyday verb ("Stop by the store"), not an order.
EVERYDAY_AFTER_STOP: frozenset[str] = frozenset({
    "by", "in", "over", "at", "on", "off", "and", "for", "to", "into", "light", "sign"})
SENTENCE_KEYWORDS: tuple[str, ...] = (
    "STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "OPTOUT", "OPT OUT", "REVOKE", "UNSUB", "ARRÊT",
    "alto", "basta", "no más", "arrête", "arrêtez", "désabonner",
)
# Emoji that mean "stop" on their own; they make a message possible_opt_out, never opt_out.
STOP_EMOJI: frozenset[str] = frozenset({"\U0001f6d1", "\u26d4", "\U0001f6ab"})  # 🛑 ⛔ 🚫
