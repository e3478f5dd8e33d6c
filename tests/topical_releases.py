"""Releases made up from a seed, with topics a list of queries can name (tests of sharded indexes).

Unlike tests/synthetic.py (made-up syllable words, for the ranking and reading proofs), these use named
words and phrases ("kandahar", "homeland security") so that a query list can exercise every part of the
query language with known matches, relaxed readings, spelling suggestions and re-issues.

Words follow a Zipf-like law over a made-up vocabulary, with English filler that stemming folds together
(attack/attacks/attacked), topical phrases ("homeland security"), issuers of several words, dates over
nine years (and a few undated releases), amounts, and re-issues: copies of earlier releases under
another issuer and date, with a line added, that the near-duplicate grouping joins to their original.
"""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ISSUERS = [
    "Department of Defense",
    "Department of Homeland Security",
    "Sen. Mary Landrieu (LA)",
    "Sen. Hillary Rodham Clinton (NY)",
    "ISAF Joint Command",
    "U.S. Central Command",
    "Office of the Governor",
    "Rep. John Dingell (MI)",
    "Federal Emergency Management Agency",
    "Department of State",
]
PHRASES = [
    "homeland security",
    "quds force",
    "border patrol",
    "national guard",
    "disaster relief",
    "health care",
    "armed forces",
    "energy policy",
]
STEMMED = [
    "attack",
    "attacks",
    "attacked",
    "attacking",
    "secure",
    "security",
    "securing",
    "fund",
    "funding",
    "funded",
]
COMMON = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "for",
    "on",
    "that",
    "with",
    "by",
    "is",
    "was",
    "as",
    "at",
    "from",
    "this",
    "be",
    "are",
    "have",
    "will",
    "which",
    "their",
    "has",
    "it",
    "an",
    "its",
    "said",
    "also",
    "were",
    "new",
    "more",
    "our",
    "they",
    "not",
    "but",
    "all",
    "been",
    "who",
    "would",
    "one",
    "than",
    "other",
    "can",
    "after",
]
TOPICAL = [
    "grant",
    "committee",
    "senator",
    "bill",
    "veterans",
    "water",
    "highway",
    "farmers",
    "clinic",
    "museum",
    "library",
    "airport",
    "tunnel",
    "police",
    "housing",
    "wetland",
    "forest",
    "coast",
    "canal",
    "levee",
    "park",
    "trail",
    "transit",
    "ferry",
    "port",
    "wharf",
    "mine",
    "plant",
    "factory",
    "college",
    "campus",
    "laboratory",
    "station",
    "depot",
    "district",
    "court",
    "prison",
    "army",
    "navy",
    "guard",
    "soldiers",
    "insurgents",
    "province",
    "kandahar",
    "helmand",
    "kabul",
    "patrol",
    "convoy",
    "militants",
    "weapons",
    "cache",
    "explosives",
    "hurricane",
    "flood",
    "katrina",
    "rita",
    "relief",
    "recovery",
    "reconstruction",
    "contractors",
    "budget",
    "appropriations",
    "medicare",
    "medicaid",
    "pension",
    "refinery",
    "pipeline",
    "nuclear",
    "uranium",
    "sanctions",
    "embassy",
    "ambassador",
    "treaty",
    "senate",
    "hearing",
    "testimony",
    "amendment",
    "resolution",
    "taxpayers",
    "deficit",
    "surplus",
    "scholarship",
    "education",
    "teachers",
    "students",
    "hospital",
    "nurses",
    "vaccine",
    "influenza",
    "pandemic",
    "wildfire",
    "drought",
    "irrigation",
    "salmon",
    "fisheries",
    "shipyard",
    "submarine",
    "aircraft",
    "helicopter",
    "drone",
    "missile",
    "radar",
    "satellite",
    "cyber",
    "network",
]


def _vocabulary(rng: random.Random) -> list[str]:
    """Made-up words with a Zipf-like weight each, after the topical and stemmed ones."""
    letters = "bcdfghklmnprstvz"
    vowels = "aeiou"
    made = {
        "".join(rng.choice(letters) + rng.choice(vowels) for _ in range(rng.randint(2, 4)))
        for _ in range(700)
    }
    return TOPICAL + STEMMED + sorted(made)


def _sentence(rng: random.Random, words: list[str], weights: list[float]) -> str:
    chosen = rng.choices(words, weights=weights, k=rng.randint(6, 16))
    mixed = [rng.choice(COMMON) if rng.random() < 0.35 else word for word in chosen]
    if rng.random() < 0.3:
        at = rng.randrange(len(mixed))
        mixed[at : at + 1] = rng.choice(PHRASES).split()
    if rng.random() < 0.15:
        mixed.append(f"${rng.randint(1000, 999999):,}")
    return " ".join(mixed).capitalize() + "."


def synthetic_records(count: int, seed: int = 0) -> list[dict[str, Any]]:
    """`count` releases as JSON Lines records (id, title, issuer, date, body); about one in eight is a
    re-issue of an earlier one."""
    rng = random.Random(seed)
    words = _vocabulary(rng)
    weights = [1.0 / (rank + 1) ** 0.9 for rank in range(len(words))]
    records: list[dict[str, Any]] = []
    start = date(2004, 1, 1)
    for n in range(count):
        if records and rng.random() < 0.12:
            original = rng.choice(records)
            day = (
                date.fromisoformat(original["date"]) + timedelta(days=rng.randint(0, 40))
                if original["date"]
                else None
            )
            records.append(
                {
                    **original,
                    "id": f"syn-{n:05d}",
                    "issuer": rng.choice(ISSUERS),
                    "date": day.isoformat() if day else None,
                    "body": f"For immediate release. {original['body']}",
                }
            )
            continue
        title = " ".join(rng.choices(words[:120], k=rng.randint(3, 8))).capitalize()
        body = " ".join(_sentence(rng, words, weights) for _ in range(rng.randint(4, 14)))
        day = start + timedelta(days=rng.randint(0, 9 * 365))
        records.append(
            {
                "id": f"syn-{n:05d}",
                "title": title,
                "issuer": rng.choice(ISSUERS) if rng.random() < 0.97 else "",
                "date": day.isoformat() if rng.random() < 0.97 else None,
                "body": body,
            }
        )
    return records


def write_documents(
    folder: Path, records: list[dict[str, Any]], shares: tuple[float, ...] = (0.8, 0.15, 0.05)
) -> Path:
    """The records as JSON Lines files in `folder`, most of them in the first (as the shared corpora are)."""
    folder.mkdir(parents=True, exist_ok=True)
    start = 0
    for n, share in enumerate(shares):
        end = len(records) if n == len(shares) - 1 else start + round(share * len(records))
        lines = "".join(json.dumps(record) + "\n" for record in records[start:end])
        (folder / f"part-{n}.jsonl").write_text(lines, encoding="utf-8")
        start = end
    return folder
