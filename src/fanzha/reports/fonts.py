"""The fonts of an official document: the official names the DOCX asks for (what an officer's Windows machine has)
and the free fonts the PDF embeds in their place (Debian packages; docs/bulletins.md says why each)."""

from __future__ import annotations

# role: (DOCX east-Asian font, PDF font chain)
FONTS = {
    "title": ("方正小标宋简体", ["Noto Serif CJK SC", "AR PL SungtiL GB", "WenQuanYi Zen Hei"]),  # 小标宋
    "body": ("仿宋_GB2312", ["AR PL SungtiL GB", "WenQuanYi Zen Hei"]),  # 仿宋: no free simplified 仿宋 in Debian
    "hei": ("黑体", ["WenQuanYi Zen Hei", "Noto Sans CJK SC"]),  # 一级标题
    "kai": ("楷体_GB2312", ["AR PL KaitiM GB", "AR PL UKai CN", "WenQuanYi Zen Hei"]),  # 二级标题
    "song": ("宋体", ["AR PL SungtiL GB", "WenQuanYi Zen Hei"]),  # 页码
}
LATIN = "Times New Roman"
RED = "C00000"  # 发文机关标志 and the rule under the 版头

# GB/T 9704-2012 in points: A4, 天头 37 mm, 订口 28 mm, 版心 156 × 225 mm, body 3号 (16 pt) 22 lines × 28 characters.
MM = 72 / 25.4
PAGE_W, PAGE_H = 210, 297
TOP, LEFT, BLOCK_W, BLOCK_H = 37, 28, 156, 225
RIGHT, BOTTOM = PAGE_W - LEFT - BLOCK_W, PAGE_H - TOP - BLOCK_H  # 26 mm, 35 mm
BODY_PT = 16  # 3号
TITLE_PT = 22  # 2号
PAGE_NO_PT = 14  # 4号
LINE_PT = round(BLOCK_H * MM / 22, 2)  # 28.99 pt: 22 lines fill the 版心
CHAR_SPACING_PT = round(BLOCK_W * MM / 28 - BODY_PT, 2)  # −0.21 pt: 28 characters fill a line


def css_chain(role: str) -> str:
    return ", ".join(f'"{name}"' for name in FONTS[role][1]) + ", serif"
