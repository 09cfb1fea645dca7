"""A schema leaf as the offline extractor looks for it (offline.py builds them; fallbacks.py reads them)."""

from __future__ import annotations

from dataclasses import dataclass

from .output import KeyPath
from .schema import Node


@dataclass(slots=True)
class Field:
    path: KeyPath
    node: Node
    phrases: list[str]
    desc: frozenset[str]
    party: str | None
    sub: str  # field name without the party word ("address", "name", "")
    is_id: bool
    expects: str | None = None  # "date" or "amount" for a plain string field that names one
