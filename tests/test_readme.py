"""README.md is assembled from docs/readme/ by `make readme`; a stale copy misleads newcomers."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_parts() -> list[str]:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    listing = re.search(r"^README_PARTS := ((?:.*\\\n)*.*)$", makefile, re.MULTILINE).group(1)
    return listing.replace("\\\n", " ").split()


def test_readme_is_assembled_from_every_part_in_order():
    parts = readme_parts()
    on_disk = sorted(path.stem for path in (ROOT / "docs" / "readme").glob("*.md"))
    assert sorted(parts) == on_disk, "a part in docs/readme/ is missing from README_PARTS (or the reverse)"
    expected = "".join((ROOT / "docs" / "readme" / f"{part}.md").read_text(encoding="utf-8") + "\n" for part in parts)
    assert (ROOT / "README.md").read_text(encoding="utf-8") == expected, "README.md is stale: run `make readme`"


def test_readme_starts_with_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_commands = re.findall(r"^make \w+", readme, re.MULTILINE)[:2]
    assert first_commands == ["make run", "make test"]
