"""Dataset loaders and small text utilities for Forward-Forward experiments.

Nothing here downloads anything or writes to disk.  The loaders read data that
Debian/Ubuntu packages install system-wide:

=====================================  ================================
Loader                                 Debian/Ubuntu package
=====================================  ================================
:func:`load_fashion_mnist`             ``dataset-fashion-mnist``
:func:`load_devils_dictionary`         ``dict-devil``
:func:`load_bible_kjv`                 ``bible-kjv`` (+ ``bible-kjv-text``)
=====================================  ================================

:func:`load_default_text` needs no package: it uses the Python documentation
topics shipped with every CPython installation (``pydoc_data.topics``).

Without the Debian/Ubuntu package, :func:`load_fashion_mnist` reads the four
IDX files of the Fashion-MNIST release (folder ``data/fashion`` of
https://github.com/zalandoresearch/fashion-mnist) from any directory, given as
``data_home`` or in the environment variable ``SKFF_FASHION_MNIST_DIR``.  It
returns a :class:`~sklearn.utils.Bunch` (``data``, ``target``, ``images``,
...) or ``(data, target)``, like scikit-learn's loaders; the text loaders
return plain text (a str, or a list of str for :func:`load_default_text`).

:func:`make_aesop_strings` turns any text into the fixed-length strings over a
30-symbol alphabet used for the "Aesop's fables" sequence experiment in
Hinton's Forward-Forward paper, and :func:`split_text` makes a contiguous
train/test split of one text.
"""

from ._aesop import make_aesop_strings
from ._bible import load_bible_kjv
from ._devil import load_devils_dictionary
from ._fashion_mnist import FASHION_MNIST_CLASSES, load_fashion_mnist
from ._pydoc import load_default_text
from ._split import split_text

# Sphinx reads a constant's doc comment from the module that documents it
# (skff.datasets, see docs/api.rst), not from the one that defines it.
#: Class names of Fashion-MNIST, indexed by label.
FASHION_MNIST_CLASSES: tuple[str, ...]

__all__ = [
    "FASHION_MNIST_CLASSES",
    "load_fashion_mnist",
    "load_devils_dictionary",
    "load_bible_kjv",
    "load_default_text",
    "make_aesop_strings",
    "split_text",
]
