"""The environment: pyproject.toml and environment.yml agree, and the test runner works as the suite expects."""
import re
import tomllib

import pytest

from conftest import ROOT


def normalise(requirement):
    name, spec = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(.*)", requirement).groups()
    return name.lower().replace("_", "-"), spec.replace(" ", "")


def test_environment_yml_pins_what_pyproject_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = dict(normalise(r) for r in project["dependencies"] + project["optional-dependencies"]["test"])
    conda = {}
    text = (ROOT / "environment.yml").read_text()
    for line in text.split("dependencies:", 1)[1].splitlines():
        item = re.match(r"\s*-\s+(?!-e\b)([A-Za-z0-9_.\-]+.*)$", line)
        if item and not item.group(1).startswith(("python", "pip:")) and item.group(1) != "pip":
            name, spec = normalise(item.group(1))
            conda[name] = spec
    assert conda == wanted


@pytest.mark.xdist_group("environment-check")
def test_xdist_keeps_each_group_on_one_worker(request):
    # The grading tests build one course per xdist_group (a session fixture); if pytest-xdist
    # stops attaching the group, `--dist loadgroup` splits it and builds that course twice.
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("the suite is not run with --dist loadgroup")
    assert request.node.nodeid.endswith("@environment-check"), (
        "pytest-xdist did not attach the xdist_group to the test id, so --dist loadgroup "
        "would split the groups: pytest and pytest-xdist versions do not fit (see the pytest "
        "pin in pyproject.toml)")
