"""Whether a character's default voice should be a man's or a woman's, read from the script.

eSpeak NG's numbered variants are male (``m1``-``m7``) or female (``f1``-``f5``). A default
voice derived from the name alone gave the demo's TEO (19, hoodie) a woman's voice and
could give MARA a man's. A screenplay rarely states sex outright, but its action says it
in pronouns ("Teo sits on the ledge with the canister on his knees"; "She lifts a dented
tin" after Mara's line), and its descriptions and cues in words ("MRS. HUDSON", "a
woman in her 40s"). This module counts that evidence and nothing cleverer; a character
with none, or with evidence both ways, gets no register and keeps the name's variant
among all twelve.

The votes (``Evidence``):

- **Words** in the cue name or the character's description (the bible's, else the
  script's introduction): a title (MR., MRS., SIR, LADY...) or a gendered noun (man, woman,
  boy, girl, mother, father...), or a pronoun in the description. Three votes each.
- **A sentence of action that starts with He, She, His or Her** continues the character
  the action was about: the one named alone in the sentence before it in the same scene
  (when no he or she came before the name there: "When she looks up, Harry waves" is
  not about Harry), or, at the start of an action paragraph straight after a dialogue
  block, its speaker. One vote.
- **The first he, she or possessive after a name** in a sentence that names exactly one
  character and has no he or she before it: half a vote ("Kate follows the direction
  his finger points" is the case it gets wrong, so it weighs less). The object pronoun
  "him", and "her" as an object (told apart by the word after it), never count.

- **A line of dialogue that names someone** other than its speaker ("Harry fought them
  off, but he'd been stabbed"): the same half vote, by the same rule; a line's other
  pronouns ("she said so") are never counted, they are anyone's.

A register is chosen when one side has at least half a vote and at least twice the
other side's. A name in the
action must be written with a capital, and a character is found by its whole name, or
by the rest of it after a title (HUDSON for MRS. HUDSON), never by one word of a longer
name ("WILL'S DATE" is not Will). On screenplays nobody tuned it on it gave a register to
36 of 96 labelled characters and none of the wrong sex
(``bench/voice_register.py``, ``bench/RESULTS.md``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["FEMALE", "MALE", "Evidence", "voice_registers"]

MALE = "male"
FEMALE = "female"

_TITLES = {
    MALE: {"MR", "MISTER", "SIR", "LORD", "KING", "PRINCE", "DUKE", "FATHER", "BROTHER",
           "UNCLE", "GRANDPA", "GRANDFATHER", "DAD", "SEÑOR", "SENOR", "HERR", "MONSIEUR"},
    FEMALE: {"MRS", "MS", "MISS", "MADAM", "MADAME", "LADY", "DAME", "QUEEN", "PRINCESS",
             "DUCHESS", "MOTHER", "SISTER", "AUNT", "AUNTIE", "GRANDMA", "GRANDMOTHER", "MOM",
             "MUM", "NUN", "SEÑORA", "SENORA", "FRAU", "MADEMOISELLE"},
}  # fmt: skip
_NOUNS = {
    MALE: {"man", "men", "boy", "guy", "gentleman", "father", "dad", "son", "brother",
           "husband", "boyfriend", "grandfather", "grandpa", "uncle", "nephew", "king",
           "prince", "he", "his", "him", "himself", "businessman", "policeman", "fisherman",
           "waiter", "actor", "widower", "monk", "priest", "lad", "fella", "male"},
    FEMALE: {"woman", "women", "girl", "lady", "mother", "mom", "mum", "daughter", "sister",
             "wife", "girlfriend", "grandmother", "grandma", "aunt", "niece", "queen",
             "princess", "she", "her", "hers", "herself", "businesswoman", "policewoman",
             "waitress", "actress", "widow", "nun", "female", "lass"},
}  # fmt: skip
# He, she, and the possessives and reflexives that point back at the subject; never the
# object pronoun "him" (nor "her" as an object, told apart by the word after it).
_PRONOUN = {
    "he": MALE, "his": MALE, "himself": MALE,
    "she": FEMALE, "her": FEMALE, "hers": FEMALE, "herself": FEMALE,
}  # fmt: skip
_CONTRACTION = re.compile(r"['’](s|d|ll|re|ve|m)$", re.IGNORECASE)
# "her" before one of these is the object ("hands it to her, and..."), not a possessive.
_NOT_A_NOUN = {
    "to", "and", "or", "but", "the", "a", "an", "with", "as", "in", "on", "at", "from",
    "for", "up", "down", "away", "back", "off", "out", "over", "into", "again", "then",
    "that", "this", "by", "close", "go", "too", "so", "now", "here", "there", "some",
}  # fmt: skip
_SENTENCE = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n+")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’.-]*")
_WORDS_WEIGHT = 3.0
_SUBJECT_WEIGHT = 1.0
_AFTER_NAME_WEIGHT = 0.5
_DECIDES = 0.5  # one vote of any kind, uncontested


@dataclass
class Evidence:
    """The votes for each register of one character."""

    male: float = 0.0
    female: float = 0.0

    def add(self, register: str, weight: float) -> None:
        if register == MALE:
            self.male += weight
        else:
            self.female += weight

    @property
    def register(self) -> str | None:
        """``MALE``, ``FEMALE``, or None (no evidence, or too much both ways)."""
        if self.male >= _DECIDES and self.male >= 2 * self.female:
            return MALE
        if self.female >= _DECIDES and self.female >= 2 * self.male:
            return FEMALE
        return None


def _bare(word: str) -> str:
    return word.strip(".'’-").upper()


def _plain(word: str) -> str:
    """A word in lower case without a contraction's tail ("he'd": "he")."""
    return _CONTRACTION.sub("", word.strip(".'’-")).lower()


def _name_words(name: str) -> list[tuple[str, ...]]:
    """The word sequences the action may call a character by: the whole name, and for a
    name that starts with a title its rest ("MRS. HUDSON": HUDSON). Other single words
    are not taken: "WILL'S DATE" is not Will, nor "MAN'S VOICE" any man."""
    words = tuple(_bare(w) for w in _WORD.findall(name) if _bare(w))
    titles = _TITLES[MALE] | _TITLES[FEMALE]
    found = [words] if words else []
    if len(words) > 1 and words[0] in titles:
        found.append(words[1:])
    return found


def _words_register(text: str, evidence: Evidence, *, nouns: bool) -> None:
    for word in _WORD.findall(text):
        bare = _bare(word)
        for register in (MALE, FEMALE):
            if bare in _TITLES[register] or (nouns and bare.lower() in _NOUNS[register]):
                evidence.add(register, _WORDS_WEIGHT)


class _Reader:
    """Walks scenes' action and dialogue blocks, voting as the module docstring says."""

    def __init__(self, names: Iterable[str]) -> None:
        self.evidence: dict[str, Evidence] = {}
        self._calls: dict[tuple[str, ...], str] = {}
        for name in names:
            key = " ".join(name.upper().split())
            self.evidence.setdefault(key, Evidence())
            for words in _name_words(key):
                self._calls.setdefault(words, key)
        self._longest = max((len(words) for words in self._calls), default=1)

    def _named(self, words: Sequence[str]) -> list[tuple[int, str]]:
        """(index of the word after the name, character) for each name in ``words``."""
        found: list[tuple[int, str]] = []
        i = 0
        while i < len(words):
            for size in range(min(self._longest, len(words) - i), 0, -1):
                who = self._calls.get(tuple(_bare(w) for w in words[i : i + size]))
                # A proper noun: written with a capital (a lower-case "will" is no WILL).
                if who is not None and words[i][0].isupper():
                    found.append((i + size, who))
                    i += size
                    break
            else:
                i += 1
        return found

    def sentence(self, text: str, referent: str | None) -> str | None:
        """Votes for one sentence of action; returns who the next sentence is about."""
        words = _WORD.findall(text)
        if not words:
            return referent
        pronouns = [_PRONOUN.get(_plain(word)) for word in words]
        if pronouns[0] is not None and referent is not None:
            self.evidence[referent].add(pronouns[0], _SUBJECT_WEIGHT)
        named = self._named(words)
        if len({who for _, who in named}) > 1:
            return None  # several people: a "he" next is anyone's
        if not named:
            return referent
        return self._after_name(words, named)

    def _after_name(self, words: Sequence[str], named: list[tuple[int, str]]) -> str | None:
        """The one character a sentence names, voted for by the first he, she or
        possessive after the name; None when it names nobody, several, or has a he or she
        before the name (the sentence is then someone else's)."""
        if len({who for _, who in named}) != 1:
            return None
        pronouns = [_PRONOUN.get(_plain(word)) for word in words]
        after, who = named[0]
        if any(pronouns[: after - 1]):
            return None  # "When she looks, Harry waves": the sentence is someone else's
        for i in range(after, len(words)):
            register = pronouns[i]
            if register is None:
                continue
            following = _plain(words[i + 1]) if i + 1 < len(words) else ""
            if _plain(words[i]) == "her" and (not following or following in _NOT_A_NOUN):
                continue  # the object: someone else
            self.evidence[who].add(register, _AFTER_NAME_WEIGHT)
            break
        return who

    def spoken(self, text: str, speaker: str | None) -> None:
        """Votes for what a line says of someone it names ("Harry fought them off, but
        he'd been stabbed"): the after-name rule only, never for the speaker."""
        for sentence in _SENTENCE.split(text):
            words = _WORD.findall(sentence)
            named = [(i, who) for i, who in self._named(words) if who != speaker]
            if len(named) == len(self._named(words)):
                self._after_name(words, named)

    def scene(self, body: Sequence[Mapping[str, Any]], speaker: Any) -> None:
        referent: str | None = None
        last_speaker: str | None = None
        for element in body:
            kind = element.get("type")
            if kind == "character":
                name = " ".join(str(element.get("name") or element.get("text") or "").split())
                who = speaker(name.upper())
                last_speaker = who
            elif kind == "action":
                if last_speaker is not None:
                    referent = last_speaker  # the action right after a line: its speaker
                    last_speaker = None
                for text in _SENTENCE.split(" ".join(str(element.get("text") or "").split())):
                    referent = self.sentence(text, referent)
            elif kind == "dialogue":
                self.spoken(" ".join(str(element.get("text") or "").split()), last_speaker)
            elif kind not in ("parenthetical", "lyrics"):
                last_speaker = None


def voice_registers(
    bodies: Iterable[Sequence[Mapping[str, Any]]],
    names: Iterable[str],
    descriptions: Mapping[str, str] | None = None,
) -> dict[str, str | None]:
    """Each character's register (``MALE``, ``FEMALE`` or None) from the script's scenes.

    Args:
        bodies: Each scene's elements (``Scene.body``), in script order.
        names: The characters, by the names their cues use (upper case).
        descriptions: Each character's description, by name (the bible's, or the
            script's introduction of them); gendered words in it count.

    Returns:
        Every name given, upper case, with its register.
    """
    reader = _Reader(names)
    known = set(reader.evidence)
    for name, evidence in reader.evidence.items():
        _words_register(name, evidence, nouns=False)
    for name, text in (descriptions or {}).items():
        key = " ".join(name.upper().split())
        if key in reader.evidence and text:
            _words_register(text, reader.evidence[key], nouns=True)

    def speaker(name: str) -> str | None:
        bare = re.sub(r"\s*\([^)]*\)", "", name).strip()  # (V.O.), (CONT'D)
        return bare if bare in known else None

    for body in bodies:
        reader.scene(body, speaker)
    return {name: evidence.register for name, evidence in reader.evidence.items()}
