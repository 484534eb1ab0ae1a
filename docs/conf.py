"""Sphinx configuration of the skatomsets documentation."""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

project = "skatomsets"
author = "skatomsets developers"
copyright = "2026, skatomsets developers"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
autosummary_generate = True
templates_path = ["_templates"]
autodoc_default_options = {
    "members": True,
    "inherited-members": False,
    # scikit-learn's own mixin methods: documented by scikit-learn, and their docstrings
    # cross-reference scikit-learn's glossary, which is not part of this site
    "exclude-members": (
        "score,set_score_request,set_fit_request,set_predict_request,set_transform_request,"
        "set_predict_proba_request,set_partial_fit_request,set_decision_function_request,"
        "set_inverse_transform_request,"
        "get_metadata_routing,set_output,fit_transform,get_params,set_params"
    ),
}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
source_suffix = {".rst": "restructuredtext"}
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py"]
html_theme = "pydata_sphinx_theme"
intersphinx_mapping = {}
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"plot_dask\.py",  # needs a cluster: shown, not executed in CI
    "download_all_examples": False,
    "remove_config_comments": True,
}
suppress_warnings = ["config.cache"]
