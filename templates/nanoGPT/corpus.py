"""Deterministic stand-in corpus for the character-level language model.

experiment.py trains on Tiny Shakespeare when data/shakespeare_char/input.txt
exists (see prepare.py). Without it (offline, or in the network-less
sandbox) it trains on the text generated here instead: play-like dialogue
("SPEAKER:" headings followed by short verse-like lines) produced by a small
probabilistic grammar over a hand-written English vocabulary, with
Zipf-like word frequencies, sentence-initial capitals, punctuation and
blank lines between speeches.

The text is fully determined by the seed and length (it only uses
random.Random(seed).random(), whose sequence Python guarantees to keep
across versions), so every host generates the same corpus. It is English-like
at the character level, but it is NOT Shakespeare: losses measured on it are
not comparable with published Tiny Shakespeare numbers.

Usage as a script (writes the text to a file, for inspection only):
    python3 corpus.py out.txt
"""

import bisect
import random
import sys

GENERATOR_VERSION = 1

SPEAKERS = (
    "ALDRIC", "BERENICE", "CASSIAN", "DORCAS", "EDMUNDO", "FLAVIA", "GASPAR",
    "HERMIA", "IVO", "JOCASTA", "LEONTIN", "MARGERY", "NICANOR", "OSRIC",
    "PERDITA", "QUINTUS", "ROSALIND", "SILVIO", "TAMORA", "ULRIC", "VALERIA",
    "WARWICK", "FIRST WATCHMAN", "SECOND WATCHMAN", "NURSE", "KING", "QUEEN",
    "DUKE", "DUCHESS", "FRIAR", "MESSENGER", "CAPTAIN", "SERVANT", "PAGE",
    "FIRST LORD", "SECOND LORD", "CITIZEN", "HERALD",
)

NAMES = (
    "Aldric", "Berenice", "Cassian", "Dorcas", "Edmundo", "Flavia", "Gaspar",
    "Hermia", "Ivo", "Jocasta", "Leontin", "Margery", "Nicanor", "Osric",
    "Perdita", "Quintus", "Rosalind", "Silvio", "Tamora", "Ulric", "Valeria",
    "Warwick", "Verona", "Milan", "Padua", "Mantua", "Athens", "Rome",
)

# Singular nouns, roughly most frequent first (weights fall off as 1/rank).
NOUNS = (
    "lord", "man", "king", "heart", "love", "day", "night", "life", "time",
    "death", "hand", "father", "son", "world", "eye", "lady", "queen", "god",
    "name", "blood", "friend", "soul", "word", "house", "mother", "brother",
    "heaven", "honour", "grace", "sir", "master", "duke", "head", "hour",
    "fear", "crown", "sword", "war", "peace", "truth", "tongue", "face",
    "matter", "reason", "power", "joy", "grief", "sorrow", "duty", "court",
    "field", "gate", "letter", "ring", "voice", "wife", "daughter", "cousin",
    "country", "city", "morning", "sun", "moon", "star", "fire", "water",
    "earth", "air", "storm", "sea", "ship", "horse", "garden", "rose",
    "tear", "breath", "promise", "oath", "fortune", "justice", "mercy",
    "shame", "youth", "age", "beauty", "virtue", "spirit", "dream", "shadow",
    "throne", "prince", "servant", "soldier", "enemy", "stranger", "fool",
    "tale", "song", "wind", "bed", "door", "window", "table", "purse", "gold",
)

# Plural forms where the regular -s rule does not apply.
IRREGULAR_PLURALS = {
    "man": "men", "lady": "ladies", "sir": "sirs", "city": "cities",
    "country": "countries", "youth": "youths", "glass": "glasses",
}

ADJECTIVES = (
    "good", "sweet", "noble", "poor", "great", "fair", "dear", "old",
    "young", "true", "gentle", "dead", "brave", "wise", "proud", "false",
    "strange", "cold", "dark", "bright", "bloody", "heavy", "little",
    "honest", "wretched", "happy", "wild", "holy", "silent", "bitter",
    "royal", "mighty", "cruel", "kind", "foul", "rich", "idle", "weary",
    "fearful", "precious", "worthy", "vile", "patient", "loving", "secret",
)

# Verbs: (base, third person singular, past).
TRANSITIVE = (
    ("love", "loves", "loved"), ("know", "knows", "knew"),
    ("see", "sees", "saw"), ("hear", "hears", "heard"),
    ("give", "gives", "gave"), ("take", "takes", "took"),
    ("tell", "tells", "told"), ("find", "finds", "found"),
    ("keep", "keeps", "kept"), ("leave", "leaves", "left"),
    ("bring", "brings", "brought"), ("kill", "kills", "killed"),
    ("fear", "fears", "feared"), ("seek", "seeks", "sought"),
    ("serve", "serves", "served"), ("follow", "follows", "followed"),
    ("forgive", "forgives", "forgave"), ("hate", "hates", "hated"),
    ("crown", "crowns", "crowned"), ("betray", "betrays", "betrayed"),
    ("praise", "praises", "praised"), ("remember", "remembers", "remembered"),
    ("trust", "trusts", "trusted"), ("wrong", "wrongs", "wronged"),
    ("honour", "honours", "honoured"), ("call", "calls", "called"),
    ("bear", "bears", "bore"), ("lose", "loses", "lost"),
)

INTRANSITIVE = (
    ("come", "comes", "came"), ("go", "goes", "went"),
    ("die", "dies", "died"), ("speak", "speaks", "spoke"),
    ("live", "lives", "lived"), ("weep", "weeps", "wept"),
    ("sleep", "sleeps", "slept"), ("stay", "stays", "stayed"),
    ("fall", "falls", "fell"), ("rise", "rises", "rose"),
    ("stand", "stands", "stood"), ("wait", "waits", "waited"),
    ("fly", "flies", "fled"), ("pray", "prays", "prayed"),
    ("laugh", "laughs", "laughed"), ("return", "returns", "returned"),
)

ADVERBS = (
    "now", "here", "there", "well", "so", "yet", "still", "never", "ever",
    "again", "too", "indeed", "soon", "away", "tonight", "today", "truly",
    "gently", "alone", "together", "hence", "anon", "once", "forever",
)

PREPOSITIONS = (
    "of", "to", "in", "with", "for", "by", "from", "on", "upon", "at",
    "against", "before", "into", "without", "under", "through", "after",
)

INTERJECTIONS = ("O", "Alas", "Ay", "Nay", "Hark", "Fie", "Peace", "Come",
                 "Well", "Why", "What", "Lo", "Good", "Farewell")

# Subject pronouns and whether they take the third-person verb form.
SUBJECTS = (("I", False), ("you", False), ("he", True), ("we", False),
            ("she", True), ("they", False), ("it", True), ("thou", False))
OBJECTS = ("me", "you", "him", "her", "us", "them", "it", "thee")
POSSESSIVES = ("my", "your", "his", "her", "our", "their", "thy")
DETERMINERS = ("the", "a", "this", "that", "no", "every", "some")
AUXILIARIES = ("will", "shall", "must", "would", "should", "may", "can",
               "cannot", "dare not")
QUESTION_WORDS = ("Why", "Where", "When", "How", "What")
CONJUNCTIONS = (", and", ", but", "; for", ", or", ", yet", "; and so",
                ", if", " and", " that", ", though")
ADDRESSES = ("my lord", "good sir", "madam", "my liege", "sweet lady",
             "my good friend", "fair cousin", "gentlemen", "my lady")


class _Picker:
    """Zipf-weighted choice from a tuple using only Random.random()."""

    def __init__(self, items, exponent=1.0):
        self.items = items
        cum, total = [], 0.0
        for rank in range(len(items)):
            total += 1.0 / (rank + 1) ** exponent
            cum.append(total)
        self.cum = cum
        self.total = total

    def __call__(self, rng):
        i = bisect.bisect_right(self.cum, rng.random() * self.total)
        return self.items[min(i, len(self.items) - 1)]


class _Grammar:
    def __init__(self, rng):
        self.rng = rng
        self.noun = _Picker(NOUNS, 0.9)
        self.adj = _Picker(ADJECTIVES, 0.8)
        self.trans = _Picker(TRANSITIVE, 0.8)
        self.intrans = _Picker(INTRANSITIVE, 0.8)
        self.adverb = _Picker(ADVERBS, 0.9)
        self.prep = _Picker(PREPOSITIONS, 1.0)
        self.interj = _Picker(INTERJECTIONS, 0.8)
        self.subject = _Picker(SUBJECTS, 0.7)
        self.obj = _Picker(OBJECTS, 0.7)
        self.poss = _Picker(POSSESSIVES, 0.8)
        self.det = _Picker(DETERMINERS, 1.0)
        self.aux = _Picker(AUXILIARIES, 0.9)
        self.qword = _Picker(QUESTION_WORDS, 0.8)
        self.conj = _Picker(CONJUNCTIONS, 1.0)
        self.address = _Picker(ADDRESSES, 0.8)
        self.name = _Picker(NAMES, 0.8)
        self.speaker = _Picker(SPEAKERS, 0.6)

    def p(self, prob):
        return self.rng.random() < prob

    def noun_phrase(self, depth=0):
        """Returns (words, third_person)."""
        r = self.rng.random()
        if r < 0.12:
            return self.name(self.rng), True
        plural = self.p(0.2)
        noun = self.noun(self.rng)
        if plural:
            noun = IRREGULAR_PLURALS.get(noun, noun + "s")
        if self.p(0.45):
            det = self.poss(self.rng)
        elif plural:
            det = "the" if self.p(0.7) else "these"
        else:
            det = self.det(self.rng)
        words = det
        if self.p(0.4):
            adj = self.adj(self.rng)
            if det == "a" and adj[0] in "aeiou":
                words = "an"
            words += " " + adj
        words += " " + noun
        if depth == 0 and self.p(0.18):
            inner, _ = self.noun_phrase(depth + 1)
            words += " " + self.prep(self.rng) + " " + inner
        return words, not plural

    def object_phrase(self):
        if self.p(0.35):
            return self.obj(self.rng)
        return self.noun_phrase()[0]

    def verb_phrase(self, third):
        r = self.rng.random()
        if r < 0.3:  # auxiliary + base form
            head = self.aux(self.rng) + " "
            form = 0
        elif r < 0.55:
            head, form = "", 2  # past tense
        else:
            head, form = "", 1 if third else 0
        if self.p(0.6):
            verb = self.trans(self.rng)[form]
            words = head + verb + " " + self.object_phrase()
        else:
            words = head + self.intrans(self.rng)[form]
        if self.p(0.3):
            words += " " + self.adverb(self.rng)
        elif self.p(0.2):
            words += " " + self.prep(self.rng) + " " + self.noun_phrase()[0]
        return words

    def clause(self):
        if self.p(0.7):
            subj, third = self.subject(self.rng)
        else:
            subj, third = self.noun_phrase()
        return subj + " " + self.verb_phrase(third)

    def sentence(self):
        r = self.rng.random()
        if r < 0.50:  # statement, sometimes compound
            s = self.clause()
            if self.p(0.3):
                s += self.conj(self.rng) + " " + self.clause()
            end = "." if self.p(0.85) else "!"
        elif r < 0.68:  # question
            if self.p(0.5):
                s = self.qword(self.rng) + " " + self.aux(self.rng).split()[0]
                s += " " + self.subject(self.rng)[0] + " "
                s += self.trans(self.rng)[0] + " " + self.object_phrase()
            else:
                s = self.aux(self.rng).split()[0] + " " + self.subject(self.rng)[0]
                s += " " + self.intrans(self.rng)[0]
                if self.p(0.4):
                    s += " " + self.adverb(self.rng)
            end = "?"
        elif r < 0.82:  # command
            s = self.trans(self.rng)[0] + " " + self.object_phrase()
            if self.p(0.4):
                s += ", " + self.address(self.rng)
            end = "." if self.p(0.6) else "!"
        elif r < 0.92:  # exclamation
            s = self.interj(self.rng) + ", " + self.adj(self.rng) + " "
            s += self.noun(self.rng)
            end = "!"
        else:  # address followed by a statement
            s = self.address(self.rng) + ", " + self.clause()
            end = "."
        s = s[0].upper() + s[1:]
        s = s.replace(" i ", " I ")
        return s + end

    def speech(self):
        """One speech: heading, then sentences wrapped into verse-like lines."""
        n_sent = 1 + int(self.rng.random() ** 2 * 6)
        words = " ".join(self.sentence() for _ in range(n_sent)).split(" ")
        width = 34 + int(self.rng.random() * 28)
        lines, cur = [], ""
        for w in words:
            if cur and len(cur) + 1 + len(w) > width:
                lines.append(cur)
                cur = w[0].upper() + w[1:]
            else:
                cur = (cur + " " + w) if cur else w
        if cur:
            lines.append(cur)
        return self.speaker(self.rng) + ":\n" + "\n".join(lines) + "\n\n"


def generate(n_chars=1_100_000, seed=1234):
    """Returns about n_chars characters of generated dialogue (whole speeches)."""
    g = _Grammar(random.Random(seed))
    parts, total = [], 0
    while total < n_chars:
        s = g.speech()
        parts.append(s)
        total += len(s)
    return "".join(parts)


if __name__ == "__main__":
    text = generate()
    if len(sys.argv) > 1:
        with open(sys.argv[1], "w", encoding="utf-8") as f:
            f.write(text)
        print(f"wrote {len(text):,} characters to {sys.argv[1]}")
    else:
        sys.stdout.write(text[:2000])
