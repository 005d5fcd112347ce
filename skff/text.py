"""Characters to ids: the vocabulary of :class:`~skff.FFLanguageModel`, and
one-hot context windows for any model that reads them.

Examples
--------
>>> from skff.text import CharVocabulary
>>> vocab = CharVocabulary.from_documents(["abba", "cab"])
>>> vocab.symbols
('a', 'b', 'c', '\ufffd')
>>> vocab.encode("abcz").tolist()
[0, 1, 2, 3]
>>> vocab.decode([2, 0, 1])
'cab'
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ._sources import ContextSource

#: Stands for every character that is not in a vocabulary.
UNKNOWN = "\ufffd"


class CharVocabulary:
    """An ordered set of characters, with :data:`UNKNOWN` last.

    Parameters
    ----------
    symbols : iterable of str
        The characters in index order; the last must be :data:`UNKNOWN`.

    See Also
    --------
    FFLanguageModel : its ``classes_`` are a vocabulary's symbols.
    """

    def __init__(self, symbols: Iterable[str]):
        self.symbols = tuple(str(s) for s in symbols)
        if not self.symbols or self.symbols[-1] != UNKNOWN:
            raise ValueError("a vocabulary ends with the UNKNOWN symbol U+FFFD")
        self._index = {c: i for i, c in enumerate(self.symbols)}
        if len(self._index) != len(self.symbols):
            raise ValueError("a vocabulary's symbols must be distinct")

    @classmethod
    def from_documents(
        cls, docs: Iterable[str], alphabet: str | None = None
    ) -> CharVocabulary:
        """The sorted characters of ``docs`` (only those in ``alphabet`` when
        it is given), then :data:`UNKNOWN`."""
        chars = set().union(*map(set, docs))
        if alphabet is not None:
            chars &= set(alphabet)
        chars.discard(UNKNOWN)
        return cls([*sorted(chars), UNKNOWN])

    def __len__(self) -> int:
        return len(self.symbols)

    def index(self) -> dict:
        """Character to id (a new dict)."""
        return dict(self._index)

    def encode(self, text: str) -> np.ndarray:
        """Ids of the characters of ``text`` (unknown ones map to the last id)."""
        unk = len(self.symbols) - 1
        get = self._index.get
        return np.fromiter((get(c, unk) for c in text), dtype=np.int64, count=len(text))

    def decode(self, ids: Iterable[int]) -> str:
        """The text of a sequence of ids."""
        return "".join(self.symbols[int(i)] for i in ids)


__all__ = ["UNKNOWN", "CharVocabulary", "ContextSource"]
