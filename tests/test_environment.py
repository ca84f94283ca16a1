"""pyproject.toml and environment.yml describe the same environment."""
import re
import tomllib

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
