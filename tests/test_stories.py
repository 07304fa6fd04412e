"""docs/stories.yaml maps user stories to tests; every listed test must exist."""

import ast
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_every_story_points_to_existing_tests():
    stories = yaml.safe_load((ROOT / "docs" / "stories.yaml").read_text())
    assert len(stories) >= 10
    for s in stories:
        assert s["tests"], s["story"]
        for ref in s["tests"]:
            path, _, name = ref.partition("::")
            f = ROOT / path
            assert f.is_file(), ref
            if name:
                funcs = {n.name for n in ast.walk(ast.parse(f.read_text())) if isinstance(n, ast.FunctionDef)}
                assert name in funcs, ref
