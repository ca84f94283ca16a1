"""Browser tests: a real JupyterLab in Chromium (a package, so that its conftest keeps its own module name)."""
