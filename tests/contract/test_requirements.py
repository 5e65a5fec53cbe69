"""What ``sam build`` installs is what pyproject.toml pins: the dependencies layer's committed
requirements.txt lists exactly [project].dependencies; every function shares that one layer and one code
layer (the dr package, built once), and its own artifact (CodeUri) carries neither code nor requirements:
each function would otherwise upload them again (44 functions x 0.55 MB of code)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from localcloud.template import expanded_template

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "dependencies"


def requirement_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def test_the_layers_requirements_are_the_projects_pinned_dependencies() -> None:
    pinned = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    committed = requirement_lines((LAYER / "requirements.txt").read_text())
    assert committed == pinned, "regenerate layers/dependencies/requirements.txt from pyproject.toml"
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-\[\],]+==[0-9][A-Za-z0-9.]*", line) for line in committed), committed


def test_every_function_uses_the_layer_built_by_sam_and_bundles_no_dependencies() -> None:
    template = expanded_template(ROOT / "template.yaml")
    layer = template["Resources"]["DependenciesLayer"]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Properties"]["ContentUri"].rstrip("/") == "layers/dependencies"
    assert layer["Metadata"]["BuildMethod"] == "python3.13"
    code_layer = template["Resources"]["CodeLayer"]
    assert code_layer["Type"] == "AWS::Serverless::LayerVersion"
    assert code_layer["Properties"]["ContentUri"].rstrip("/") == "functions"
    assert code_layer["Metadata"]["BuildMethod"] == "python3.13"
    assert (ROOT / "functions" / "dr" / "steps").is_dir()
    function_globals = template["Globals"]["Function"]
    assert function_globals["Layers"] == [{"Ref": "CodeLayer"}, {"Ref": "DependenciesLayer"}]
    assert function_globals["Runtime"] == "python3.13"
    code = ROOT / function_globals["CodeUri"]
    assert not (code / "requirements.txt").exists(), "a requirements.txt in CodeUri is installed into every function"
    shipped = [p.relative_to(code) for p in code.rglob("*") if p.is_file()]
    assert [p for p in shipped if p.suffix == ".py"] == [], f"CodeUri ships code of its own: {shipped}"
    assert not (ROOT / "functions" / "requirements.txt").exists(), "the code layer would install requirements too"
    for lid, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            props = resource["Properties"]
            assert "CodeUri" not in props and "Layers" not in props, f"{lid} overrides the shared code or layer"
