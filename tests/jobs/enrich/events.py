"""Raw events for the enrichment tests and benchmark: valid by construction, French first."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from ecoute.events import pseudonymise, to_rfc3339

TEXTS = [
    "Toujours aucune réponse du service client depuis 3 semaines, c'est inadmissible !",
    "Merci pour votre aide, la livraison est arrivée en avance 😊",
    "L'application plante à chaque mise à jour, pourriez-vous corriger le bug de connexion ?",
    "Bonjour, comment puis-je modifier mon abonnement ?",
    "Super nouvelle collection, bravo à toute l'équipe !",
    "Le prix a encore augmenté, c'est du vol.",
    "Where can I find the English version of the app?",
    "Great customer service, thanks a lot!",
    "Je suis nouveau ici, quelqu'un peut m'expliquer comment ça marche ?",
    "Colis perdu, remboursement refusé, je ne commanderai plus jamais chez vous.",
]

BASE_TIME = datetime(2026, 10, 14, 9, 0, tzinfo=UTC)


def raw_event(
    n: int,
    *,
    kind: str = "comment",
    parent: str | None = None,
    brand: bool = False,
    text: str | None = None,
    created_at: datetime | None = None,
    source: str = "facebook",
    seed: int | None = None,
) -> dict[str, Any]:
    rng = random.Random(n if seed is None else seed)
    created = created_at or BASE_TIME + timedelta(seconds=n * 7)
    event: dict[str, Any] = {
        "schema_version": 1,
        "id": f"{source}:{n}",
        "source": source,
        "kind": "post" if parent is None and kind == "comment" and n % 10 == 0 else kind,
        "parent_id": parent,
        "thread_id": parent,
        "channel": "page:ecoute-demo",
        "author": {
            "id": "brand" if brand else pseudonymise(f"user{rng.randint(1, 500)}", "test-key"),
            "name": "Marque" if brand else f"Utilisateur {n}",
            "is_brand": brand,
        },
        "text": text if text is not None else TEXTS[rng.randrange(len(TEXTS))],
        "url": f"https://example.com/{source}/{n}",
        "created_at": to_rfc3339(created),
        "fetched_at": to_rfc3339(created + timedelta(minutes=1)),
        "metrics": {"likes": rng.randint(0, 50), "replies": 0, "shares": 0},
        "raw": {"native": n},
    }
    return event


def stream_of_events(count: int, start: int = 0) -> list[dict[str, Any]]:
    """``count`` events: posts, comments on them, and some brand replies to comments."""
    events = []
    for n in range(start, start + count):
        if n % 10 == 0:
            events.append(raw_event(n, kind="post"))
        elif n % 10 == 7:
            events.append(
                raw_event(
                    n,
                    kind="reply",
                    parent=f"facebook:{n - 1}",
                    brand=True,
                    text="Bonjour, nous revenons vers vous en message privé.",
                )
            )
        else:
            events.append(raw_event(n, kind="comment", parent=f"facebook:{n - n % 10}"))
    return events
