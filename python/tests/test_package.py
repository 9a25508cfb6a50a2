"""The package imports and says its version."""

import stepwise


def test_version_is_the_npm_package_version() -> None:
    import json

    from conftest import REPO_ROOT

    package = json.loads((REPO_ROOT / "package.json").read_text())
    assert stepwise.__version__ == package["version"]
