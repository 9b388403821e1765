"""What the intake form learns from the text as the operator types: emergencies, category, place,
enterprise, the caller's recent orders, other callers' open orders on the same issue, and the knowledge
articles and past cases that may answer it at once (直接办结).

Every detector is wrapped so that a failure in one never breaks intake: the operator then simply sees
nothing from it.
"""

import logging
from dataclasses import dataclass, field

from categories.models import Category
from knowledge import search as knowledge_search
from knowledge.models import Kind
from nlp import emergency, enterprise
from nlp.enterprise import EnterpriseHint
from nlp.places import Places, extract
from orders import queries

logger = logging.getLogger(__name__)
MIN_LEAF_NAME = 2


@dataclass
class Assist:
    alerts: list = field(default_factory=list)
    prediction: object | None = None
    leaves: list = field(default_factory=list)
    places: Places | None = None
    enterprise: EnterpriseHint | None = None
    repeats: list = field(default_factory=list)
    similar: list = field(default_factory=list)
    articles: list = field(default_factory=list)
    cases: list = field(default_factory=list)


def _predict(title: str, content: str):
    try:
        from nlp.classifier import predict
    except ImportError:
        return None
    return predict(title, content)


def suggest_leaves(text: str, top_label: str | None, limit: int = 5) -> list[Category]:
    """Leaf categories whose own name appears in the text, inside the predicted top category if there is one."""
    leaves = Category.objects.active().leaves().select_related("parent__parent").exclude(name="其他")
    if top_label:
        leaves = leaves.filter(parent__parent__name=top_label)
    found = [c for c in leaves if len(c.name) >= MIN_LEAF_NAME and c.name in text]
    if not found:
        found = [c for c in leaves if len(c.parent.name) >= MIN_LEAF_NAME and c.parent.name in text]
    return found[:limit]


def assist(title: str, content: str, address: str, phone: str) -> Assist:
    result = Assist()
    text = f"{title} {content}"
    steps = {
        "alerts": lambda: emergency.detect(title, content),
        "prediction": lambda: _predict(title, content),
        "places": lambda: extract(address, title, content),
        "enterprise": lambda: enterprise.detect(text, phone),
        "repeats": lambda: list(queries.caller_history(phone, days=30, limit=5)) if phone else [],
        "articles": lambda: knowledge_search.search(text, limit=5, exclude_kinds=[Kind.CASE]),
        "cases": lambda: knowledge_search.search(text, limit=3, kinds=[Kind.CASE]),
    }
    for name, step in steps.items():
        try:
            setattr(result, name, step())
        except Exception:  # noqa: BLE001 - a detector must never stop the operator
            logger.exception("intake assist step %s failed", name)
    label = getattr(result.prediction, "label", None)
    try:
        result.leaves = suggest_leaves(text, label)
        place = result.places.street or result.places.district if result.places else None
        result.similar = queries.similar_open_orders(text, place.path if place else None, phone)
    except Exception:  # noqa: BLE001
        logger.exception("intake assist failed")
    return result
