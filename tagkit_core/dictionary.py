"""Dictionary: a two-way map between string items (tags, labels, words) and integer ids."""

from __future__ import annotations

from typing import Iterable, Iterator

__all__ = ["Dictionary", "UNK"]

UNK = "<unk>"


class Dictionary:
    """Items in insertion order, each with a stable id.

    With ``add_unk=True`` the item ``<unk>`` gets id 0 and every unknown item maps to it;
    without it, asking for an unknown item is a ``KeyError`` naming the item and what is known.
    """

    def __init__(self, add_unk: bool = True) -> None:
        self.item2idx: dict[str, int] = {}
        self.idx2item: list[str] = []
        self.add_unk = add_unk
        if add_unk:
            self.add_item(UNK)

    def add_item(self, item: str) -> int:
        """Add ``item`` if new; return its id either way."""
        idx = self.item2idx.get(item)
        if idx is None:
            idx = len(self.idx2item)
            self.item2idx[item] = idx
            self.idx2item.append(item)
        return idx

    def get_idx_for_item(self, item: str) -> int:
        idx = self.item2idx.get(item)
        if idx is not None:
            return idx
        if self.add_unk:
            return 0
        known = ", ".join(self.idx2item[:20]) + (" ..." if len(self) > 20 else "")
        raise KeyError(f"{item!r} is not in this dictionary (known: {known})")

    def get_idx_for_items(self, items: Iterable[str]) -> list[int]:
        return [self.get_idx_for_item(item) for item in items]

    def get_item_for_index(self, idx: int) -> str:
        return self.idx2item[idx]

    def get_items(self) -> list[str]:
        return list(self.idx2item)

    def __contains__(self, item: object) -> bool:
        return item in self.item2idx

    def __len__(self) -> int:
        return len(self.idx2item)

    def __iter__(self) -> Iterator[str]:
        return iter(self.idx2item)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Dictionary)
            and self.idx2item == other.idx2item
            and self.add_unk == other.add_unk
        )

    def to_dict(self) -> dict:
        """A JSON-serialisable form; ``Dictionary.from_dict`` reverses it exactly."""
        return {"add_unk": self.add_unk, "items": list(self.idx2item)}

    @classmethod
    def from_dict(cls, data: dict) -> Dictionary:
        dictionary = cls(add_unk=False)
        for item in data["items"]:
            dictionary.add_item(item)
        dictionary.add_unk = bool(data["add_unk"])
        return dictionary

    def __repr__(self) -> str:
        shown = ", ".join(self.idx2item[:30]) + (", ..." if len(self) > 30 else "")
        return f"Dictionary with {len(self)} tags: {shown}"
