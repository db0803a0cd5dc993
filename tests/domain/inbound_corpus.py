"""A corpus of inbound texts with the class each must get (used by test_keywords.py).

Every row is (text, expected class, group). The groups say what the row exercises; rows of the
"arabic" group are classified with ARABIC_REGISTRATION's words, all others with the defaults only.
Expected OPT_OUT rows are the *unambiguous* opt-outs: recall on them must be 100%. Rows expected
as REPLY or POSSIBLE_OPT_OUT are ordinary or unclear texts: none of them may become OPT_OUT.
"""

from __future__ import annotations

from typing import NamedTuple

from proactive_sms.domain.keywords import InboundClass, KeywordSet

OPT_OUT = InboundClass.OPT_OUT
OPT_IN = InboundClass.OPT_IN
HELP = InboundClass.HELP
POSSIBLE = InboundClass.POSSIBLE_OPT_OUT
REPLY = InboundClass.REPLY

ARABIC_REGISTRATION = KeywordSet.from_dict({
    "opt_out": ["إلغاء", "توقف", "إيقاف", "الغاء الاشتراك"],
    "opt_in": ["اشتراك"],
    "help": ["مساعدة"],
})


class Case(NamedTuple):
    text: str
    expected: InboundClass
    group: str


def _group(group: str, expected: InboundClass, *texts: str) -> list[Case]:
    return [Case(text, expected, group) for text in texts]


CORPUS: tuple[Case, ...] = (
    # The standard keywords, bare and with noise: case, spaces, punctuation, emoji, courtesy.
    *_group("keyword", OPT_OUT,
            "STOP", "stop", "Stop", "Stop.", " STOP ", "stop!!", "Stop. Thank you", "STOP ALL",
            "stopall", "Stop all", "UNSUBSCRIBE", "Unsubscribe.", "CANCEL", "cancel", "END",
            "End.", "QUIT", "quit!", "REVOKE", "OPTOUT", "OPT OUT", "OPT-OUT", "opt-out",
            "Opt out.", "ARRET", "ARRÊT", "arret", "Arrêt"),
    *_group("keyword_noise", OPT_OUT,
            "STOP 🛑", "🛑 STOP 🛑", "stop 😡😡", "**STOP**", "\"STOP\"", "(stop)", "stop\n",
            "\tSTOP\t", "STOP!!!!!!!", "...stop...", "STOP please", "Please STOP", "stop pls",
            "STOP NOW", "Stop now!", "stop thanks", "STOP. Thanks!", "Stop, thank you.",
            "I said STOP", "Just stop.", "STOP STOP STOP", "stop. stop. stop.", "No. Stop.",
            "no stop", "ＳＴＯＰ", "Ｓｔｏｐ", "S.T.O.P", "S T O P", "St\u200bop",
            "\u200fSTOP\u200f", "ok stop", "Stop already", "STOP ALL!", "OPT—OUT",
            "Unsubscribe please", "cancel please", "END!!", "STOP HELP", "HELP STOP",
            "YES STOP", "stop, help", "Stop. Who is this?", "STOP! I never signed up for this"),
    # Any reasonable means: revocation phrases.
    *_group("phrase", OPT_OUT,
            "please stop texting me", "Stop texting me", "stop texting", "Can you stop texting me?",
            "quit texting me!", "stop messaging me", "Stop sending me these texts",
            "stop sending me messages", "stop sending texts to this number", "Stop the texts",
            "stop these messages please", "stop all texts", "opt me out",
            "Please opt me out of this", "I want to opt out", "I'd like to opt out",
            "I want to unsubscribe", "remove me from your list", "Remove me", "remove my number",
            "Please remove this number from your list", "Delete my number", "unsubscribe me",
            "Unsubscribe me from this list", "do not text me", "Do not text me again",
            "don't text me anymore", "Dont text me", "never text me again", "do not contact me",
            "take me off this list", "Take me off your list please", "take me off",
            "leave me alone", "Leave me alone!!", "Lose my number", "I don't want these texts",
            "I do not want to receive messages", "I no longer wish to receive texts",
            "No more texts please", "no more messages", "I revoke my consent",
            "I withdraw consent", "Please put me on your do not call list",
            "cancel these texts", "Stop it!", "I want to stop receiving these messages",
            "Hi, please stop texting me, I'm not interested", "Stop spamming me",
            "I told you to stop texting me", "Don't you ever text me again",
            "Thank you, end", "Stop!!! Wrong number", "Unsubscribe from this",
            "Can you please stop?", "REMOVE", "unsub", "No more!", "Who is this? Stop texting me",
            "I do not consent to receive text messages", "stop sending!"),
    # Any reasonable means: misspellings (one slip away, by the rule in keywords.py).
    *_group("misspelling", OPT_OUT,
            "stpo", "sotp", "tsop", "stopp", "STOPPPP", "stooop", "srop", "st0p", "unsubscibe",
            "unsubcribe", "unsuscribe", "usnubscribe", "cancle", "cancell", "cancl", "qiut",
            "quitt", "revoek", "optuot", "stopal", "arrte", "Stpo.", "STPO!!", "stpo please",
            "plz stpo texting me", "unsubscibe me"),
    # Any reasonable means: Spanish.
    *_group("spanish", OPT_OUT,
            "alto", "ALTO", "Para", "para.", "parar", "basta", "Ya basta", "baja", "BAJA",
            "cancelar", "Cancelar por favor", "no más", "No mas", "NO MÁS", "no más mensajes",
            "detener", "darme de baja", "Quiero darme de baja", "dejen de enviarme mensajes",
            "Por favor dejen de escribirme", "No me envíen más mensajes",
            "ya no quiero recibir mensajes", "No quiero más mensajes",
            "Sáquenme de su lista", "Borren mi número", "déjame en paz", "Alto 🛑",
            "alto gracias"),
    # Any reasonable means: French.
    *_group("french", OPT_OUT,
            "arrête", "ARRETE", "arrêter", "arrêtez", "Arrêtez svp", "désabonner",
            "desabonner", "désinscrire", "ne plus recevoir", "Je ne veux plus recevoir de SMS",
            "Arrêtez de m'envoyer des messages", "Merci de ne plus m'envoyer de SMS",
            "STOP SMS", "stop sms", "Plus de SMS", "Je veux me désabonner", "Retirez-moi",
            "désinscrivez-moi s'il vous plaît", "Laissez-moi tranquille", "Arret merci",
            "Ne m'envoyez plus de messages"),
    # Per-registration words (ARABIC_REGISTRATION), matched like the defaults.
    *_group("arabic", OPT_OUT,
            "إلغاء", "توقف", "توقف!", " إيقاف ", "الغاء", "إلغاء 🛑", "توقف من فضلك",
            "الغاء الاشتراك", "إلغاء، شكرا", "إلـغـاء"),
    *_group("arabic", HELP, "مساعدة", "مساعدة؟"),
    *_group("arabic", OPT_IN, "اشتراك"),
    *_group("arabic", POSSIBLE, "أريد إلغاء الاشتراك في العرض", "من فضلك توقف عن الإرسال الآن"),
    *_group("arabic", REPLY, "مرحبا، متى موعدي؟", "شكرا"),
    # Opt-in and help: only as the whole message.
    *_group("opt_in", OPT_IN,
            "START", "start", "Start.", "YES", "yes", "Yes!", "yes please", "YES!!! 👍",
            "UNSTOP", "unstop", "Ｙｅｓ", "Start please"),
    *_group("help", HELP,
            "HELP", "help", "Help?", "INFO", "info please", "HELP!", "ayuda", "Aide", "help yes",
            "HELP START"),
    # Not clearly a revocation, but might be one: a person reviews it.
    *_group("possible", POSSIBLE,
            "I will stop by the store tomorrow to pay", "can you stop calling my work number",
            "How do I unsubscribe?", "Can I cancel my appointment for Friday?",
            "please remove the late fee", "I quit my job so I can't pay this month",
            "wrong number", "Wrong number, sorry", "I'm not interested", "this is spam",
            "don't stop texting me, I like the deals", "I will stop texting", "🛑",
            "Stop by anytime after 5", "make it stop", "I need to stpo at the bank first",
            "necesito cancelar mi cita", "el precio es muy alto", "I never signed up for this",
            "How did you get my number?", "please don't remove me from the list",
            "Stop, I'm driving, call you later", "Cancel. I'll come Tuesday",
            "I have no more messages from you", "Unsubscribe from what?",
            "Please don't text me before 9", "You don't text me anymore",
            "do not call me", "I didn't sign up", "Baja California", "arrête de rire"),
    # A short one-clause message that opens with a STOP-like keyword, and end/cancel/quit + texts
    # (issue 13: these were review items while the number went on being texted).
    *_group("leading_keyword", OPT_OUT,
            "Stop calling me", "stop this number", "STOP sending these pls", "Stop it now please",
            "UNSUBSCRIBE me from this", "Stop all of it!", "end messages", "End texts.",
            "cancel texts", "Quit the texts!", "stop the messages"),
    # Ordinary replies, including ones that merely contain "stop" or "end" in other words.
    *_group("reply_stop_end", REPLY,
            "Stopwatch", "my stopwatch broke", "I'll send it at the end of the week",
            "See you this weekend", "Have a good weekend!", "The end", "It's endless",
            "Send me the address", "I'm sending the payment now", "unstoppable",
            "Nonstop calls today", "The bus stops at 5", "I stopped by yesterday",
            "Stopping at the gas station", "the pen is at the end of the table",
            "Let's meet at the end of the month", "I'd recommend it", "pending", "Endorse it",
            "Spend less", "Backstop", "Trending", "extended warranty", "calendar", "Weekend?",
            "send", "ending"),
    *_group("reply", REPLY,
            "yes I will be there", "Yes, 3pm works", "Thank you", "ok", "Who is this?",
            "Can you call me back?", "What time is my appointment?", "help me with my bill",
            "I need more info about the offer", "step", "shop", "top", "stoop", "atop", "stop2",
            "into", "cancer", "alot", "arrest", "quiet", "quite", "spot", "post", "pots",
            "tops", "opts", "Es para mañana", "gracias, es para mi hijo", "Bonjour, merci",
            "¿Cuándo es mi cita?", "Le rendez-vous est à quelle heure ?", "", "!!!", "👍",
            "12345", "Start time is 9am?", "Why don't you text me the address?",
            "No thanks", "Please call me", "Thanks for the reminder", "Take me off speaker",
            "drop me a line", "get me out of here", "Leave me a voicemail", "No more questions",
            "End of discussion", "the end.", "Para mi esposa", "Opt in", "no", "Nope",
            "Is this a scam", "cancelled", "Stopped", "why dont you text me"),
)
