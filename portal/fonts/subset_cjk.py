"""Build ``PortalCJK-Regular.otf``: the CJK fallback font, cut down from Noto Sans CJK TC.

The full font (Noto Sans Hant Regular from the npm package ``@embedpdf/fonts-tc`` 1.0.0,
SIL Open Font License 1.1) is 5.6 MB; certificates only need the ideographs people
write names with. Kept: every character of GB2312 (simplified Chinese) and of Big5
level 1 (the 5,401 frequent traditional characters), kana, CJK punctuation and the
full-width forms — enough for 李小龍 and most Chinese and Japanese names. The OFL
reserves the name "Noto Sans", so the cut-down file is renamed "Portal CJK".

Run again after updating the source font (fontTools comes with fpdf2)::

    npm pack @embedpdf/fonts-tc && tar xzf embedpdf-fonts-tc-1.0.0.tgz
    .venv/bin/python portal/fonts/subset_cjk.py package/fonts/NotoSansHant-Regular.otf
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

HERE = Path(__file__).parent
FAMILY = "Portal CJK"


def wanted_characters() -> set[int]:
    wanted: set[int] = set()
    for start, end in ((0x3000, 0x30FF), (0xFF00, 0xFFEF)):  # punctuation, kana, full-width forms
        wanted.update(range(start, end + 1))
    for code in range(0x4E00, 0xA000):
        char = chr(code)
        for encoding in ("gb2312", "big5"):
            try:
                encoded = char.encode(encoding)
            except UnicodeEncodeError:
                continue
            if encoding == "gb2312" or 0xA440 <= int.from_bytes(encoded, "big") <= 0xC67E:
                wanted.add(code)
                break
    return wanted


def build(source: Path, target: Path) -> None:
    font = TTFont(source)
    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=wanted_characters())
    subsetter.subset(font)
    names = font["name"]
    for record in names.names:
        if record.nameID in (1, 16):
            record.string = FAMILY
        elif record.nameID in (4,):
            record.string = f"{FAMILY} Regular"
        elif record.nameID in (3, 6):
            record.string = "PortalCJK-Regular"
    font.save(target)


if __name__ == "__main__":
    build(Path(sys.argv[1]), HERE / "PortalCJK-Regular.otf")
