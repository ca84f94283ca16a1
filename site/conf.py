"""Sphinx configuration of the course website (built by site/build.py into site/_build/html).

The pages are the students' notebooks (notebooks/, never solutions/), executed by myst-nb
while the site is built; the maths is typeset by a copy of MathJax served from the site
itself (sphinx-mathjax-offline), so the pages read offline and load nothing from a CDN.
"""
project = "Recurrent neural networks, from the unrolled graph to attention"
author = "the RNN course"
copyright = "the RNN course, MIT licence"

extensions = ["myst_nb", "sphinx-mathjax-offline"]
myst_enable_extensions = ["dollarmath", "amsmath"]
exclude_patterns = ["_build"]

html_theme = "sphinx_book_theme"
html_title = "RNN course"
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": True,
    "navigation_with_keys": False,
}
# No remote fonts, analytics or edit buttons: every asset comes from the site.
html_last_updated_fmt = None

# build.py has executed the notebooks already (errors allowed: an unanswered exercise raises
# NotImplementedError); myst-nb renders what is stored.
nb_execution_mode = "off"
nb_merge_streams = True
