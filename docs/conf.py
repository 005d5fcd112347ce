"""Sphinx configuration of the skff documentation.

Build it from the repository root with::

    python -m pip install -e ".[docs]"
    python -m sphinx -W --keep-going -b html docs docs/_build/html

The gallery examples in ``examples/`` are executed during the build, each with
one torch thread and one BLAS thread; add ``-D plot_gallery=0`` for a quick
build that does not run them.
"""

import os
import re
import sys
from datetime import date

import skff

sys.path.insert(0, os.path.abspath("_ext"))

# -- project ----------------------------------------------------------------------
project = "skff"
author = "The skff developers"
copyright = f"{date.today().year}, {author}"
version = release = skff.__version__

# -- general ----------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "matplotlib.sphinxext.plot_directive",
]
templates_path = ["_templates"]
exclude_patterns = ["_build", "_ext", "_scripts", "Thumbs.db", ".DS_Store"]
default_role = "literal"  # `x` renders as code, never as a broken reference
pygments_style = "sphinx"

# -- autodoc / autosummary / numpydoc --------------------------------------------
autosummary_generate = True  # stubs in docs/generated/, from _templates/autosummary/
autodoc_typehints = "none"  # the numpydoc sections already give the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# -- matplotlib's plot directive (the diagram of the user guide) ------------------
plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 110)]
plot_rcparams = {"savefig.bbox": "tight"}

# -- sphinx-gallery ---------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "gallery_helpers.ExampleOrder",
    "reset_modules": ("matplotlib", "gallery_helpers.reset_threads"),
    "doc_module": ("skff",),
    "backreferences_dir": os.path.join("gen_modules", "backreferences"),
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 1,
}

# -- HTML -------------------------------------------------------------------------
try:
    import pydata_sphinx_theme  # noqa: F401
except ImportError:  # fall back to the theme that ships with Sphinx
    html_theme = "alabaster"
    html_theme_options = {"description": "Forward-Forward networks for scikit-learn"}
else:
    html_theme = "pydata_sphinx_theme"
    html_theme_options = {
        "navbar_align": "left",
        "show_toc_level": 2,
        "secondary_sidebar_items": ["page-toc"],
    }
html_title = f"skff {release}"
html_static_path = []
html_show_sourcelink = False


# -- docstrings inherited from scikit-learn ---------------------------------------
# The API pages list inherited methods (score, get_params, set_*_request, ...).
# Their scikit-learn docstrings use :ref:/:term: targets of scikit-learn's own
# documentation, which do not exist here; render those as plain text.
_SKLEARN_XREF = re.compile(r":(?:ref|term):`([^`<]*?)\s*(?:<([^>`]*)>)?`")


def _plain_sklearn_xrefs(app, what, name, obj, options, lines):
    module = getattr(obj, "__module__", None) or ""
    if not module.startswith("sklearn"):
        return
    for i, line in enumerate(lines):
        lines[i] = _SKLEARN_XREF.sub(lambda m: m.group(1) or m.group(2), line)


# In reST a word ending in "_" is a link: the attribute type "ndarray of shape
# (n_features_in_,)" in skff's docstrings would be a broken one. Render it as
# code (a no-op once the docstrings write ``n_features_in_`` themselves).
_BARE_N_FEATURES_IN = re.compile(r"(?<![`\w])n_features_in_(?![`\w])")


def _quote_n_features_in(app, what, name, obj, options, lines):
    if not name.startswith("skff"):
        return
    for i, line in enumerate(lines):
        if "of shape" in line:
            lines[i] = _BARE_N_FEATURES_IN.sub("``n_features_in_``", line)


# A quick build (-D plot_gallery=0) runs no example, so the user guide's figure
# from the Fashion-MNIST example does not exist: do not fail on that.
def _allow_missing_gallery_images(app, config):
    if str(config.plot_gallery).lower() in ("0", "false", "no", "off"):
        config.suppress_warnings = [*config.suppress_warnings, "image.not_readable"]


def setup(app):
    app.connect("autodoc-process-docstring", _plain_sklearn_xrefs)
    app.connect("autodoc-process-docstring", _quote_n_features_in)
    app.connect("config-inited", _allow_missing_gallery_images)
