"""The body map: a schematic human figure (front view) drawn as inline SVG.

Every organ of the kinetics model (``physiology.ORGANS``), the blood and the disease target
tissue is one ``<g class="organ" data-organ="NAME">`` group; the report's script colours it
by percent of dose at the chosen time (``data-paint="fill"`` groups get a fill colour,
``data-paint="stroke"`` groups, skin and blood vessels, a stroke colour). Labels beside the
figure carry the current value in ``<tspan data-value="NAME">``.

The geometry is a schematic, not anatomy: organs sit roughly where they are, at sizes that
keep each one visible. Coordinates are in a 300 x 620 box centred at x = 150 (the patient's
right side is on the viewer's left), then shifted right to leave room for the labels.
"""

from __future__ import annotations

import math
from html import escape

#: colour scale: log10(% of dose) from LOG_MIN to LOG_MAX, stops as (position 0..1, colour)
LOG_MIN, LOG_MAX = -3.0, 2.0
COLOR_STOPS: list[tuple[float, str]] = [   # matplotlib "magma", reversed, without its black end
    (0.00, "#fcfdbf"), (0.20, "#feb078"), (0.40, "#f1605d"), (0.60, "#b73779"),
    (0.80, "#721f81"), (1.00, "#2c115f"),
]
#: colour of an organ without any cells (0 % of dose)
NONE_COLOR = "#e6e6e6"

X0 = 100.0          # shift of the figure inside the drawing (room for labels on the left)
WIDTH, HEIGHT = 560, 700

Pt = tuple[float, float]


def _mirror(pts: list[Pt]) -> list[Pt]:
    return [(300.0 - x, y) for x, y in pts]


def _fmt(v: float) -> str:
    return f"{v + 0.0:.1f}".rstrip("0").rstrip(".")


def _smooth(pts: list[Pt], closed: bool = True, k: float = 1.0) -> str:
    """A smooth path through the points (Catmull-Rom spline as cubic Beziers)."""
    n = len(pts)
    P = [(x + X0, y) for x, y in pts]
    d = [f"M{_fmt(P[0][0])},{_fmt(P[0][1])}"]
    last = n if closed else n - 1
    for i in range(last):
        p0 = P[i - 1] if (closed or i > 0) else P[i]
        p1, p2 = P[i], P[(i + 1) % n]
        p3 = P[(i + 2) % n] if (closed or i + 2 < n) else p2
        c1 = (p1[0] + (p2[0] - p0[0]) * k / 6, p1[1] + (p2[1] - p0[1]) * k / 6)
        c2 = (p2[0] - (p3[0] - p1[0]) * k / 6, p2[1] - (p3[1] - p1[1]) * k / 6)
        d.append(f"C{_fmt(c1[0])},{_fmt(c1[1])} {_fmt(c2[0])},{_fmt(c2[1])} {_fmt(p2[0])},{_fmt(p2[1])}")
    return " ".join(d) + (" Z" if closed else "")


def _line(pts: list[Pt]) -> str:
    return "M" + " L".join(f"{_fmt(x + X0)},{_fmt(y)}" for x, y in pts)


def _ellipse(cx: float, cy: float, rx: float, ry: float, rot: float = 0.0, **attrs) -> str:
    tr = f' transform="rotate({_fmt(rot)} {_fmt(cx + X0)} {_fmt(cy)})"' if rot else ""
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return (f'<ellipse cx="{_fmt(cx + X0)}" cy="{_fmt(cy)}" rx="{_fmt(rx)}" ry="{_fmt(ry)}"{tr}{extra}/>')


def _path(d: str, **attrs) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return f'<path d="{d}"{extra}/>'


# ---------------------------------------------------------------------------------------------
# geometry (viewer's left half; the right half is mirrored)

_SILHOUETTE_LEFT: list[Pt] = [
    (139, 92), (137, 112), (106, 121), (89, 131), (79, 160), (71, 230), (63, 300), (58, 345),
    (51, 372), (58, 396), (72, 382), (75, 346), (83, 300), (89, 236), (98, 178), (102, 262),
    (99, 322), (95, 372), (98, 432), (104, 490), (103, 545), (111, 584), (95, 600), (104, 609),
    (133, 607), (137, 584), (139, 522), (139, 490), (142, 432), (150, 408),
]


def _silhouette_points() -> list[Pt]:
    left = _SILHOUETTE_LEFT
    right = _mirror(left[:-1])[::-1]        # back up the right side, without the crotch twice
    return [*left, *right]


def _head() -> str:
    return _ellipse(150, 52, 33, 42)


def _organs(target: str | None) -> dict[str, str]:
    """SVG content (without the group) of each organ; order = drawing order."""
    o: dict[str, str] = {}
    sil = _smooth(_silhouette_points(), k=0.8)
    o["rest"] = _path(sil) + _head()
    # adipose: fat pads over the hips and the lower belly
    o["adipose"] = (_ellipse(106, 368, 7, 22) + _ellipse(194, 368, 7, 22) + _ellipse(150, 388, 27, 7))
    # muscle: upper arms, thighs, calves
    o["muscle"] = (_ellipse(85, 186, 8, 42, 6) + _ellipse(215, 186, 8, 42, -6)
                   + _ellipse(121, 452, 17, 40, -3) + _ellipse(179, 452, 17, 40, 3)
                   + _ellipse(121, 538, 12, 32) + _ellipse(179, 538, 12, 32))
    # marrow: humeri, femora, tibiae
    bones = [[(86, 140), (92, 141), (83, 228), (77, 226)],
             [(120, 412), (127, 411), (128, 488), (121, 489)],
             [(118, 500), (124, 500), (122, 575), (117, 575)]]
    m = []
    for b in bones:
        m.append(_smooth(b, k=0.4))
        m.append(_smooth(_mirror(b), k=0.4))
    o["marrow"] = "".join(_path(d) for d in m)
    # blood: the big vessels (drawn as strokes)
    trunk = [(150, 96), (150, 380)]
    leg = [(150, 380), (133, 415), (134, 490), (131, 585)]
    arm = [(150, 128), (110, 130), (94, 160), (86, 240), (74, 340)]
    o["blood"] = "".join(_path(_line(p)) for p in (trunk, leg, _mirror(leg), arm, _mirror(arm),
                                                   [(150, 112), (142, 92)], [(150, 112), (158, 92)]))
    o["kidney"] = _ellipse(114, 300, 8, 15, -8) + _ellipse(186, 300, 8, 15, 8)
    lung_l = [(140, 132), (126, 138), (113, 160), (106, 200), (107, 234), (121, 239), (137, 229),
              (142, 200), (143, 160)]
    lung_r = [(160, 134), (174, 138), (187, 160), (194, 200), (193, 234), (181, 239), (169, 233),
              (171, 216), (160, 203), (157, 160)]
    o["lung"] = _path(_smooth(lung_l)) + _path(_smooth(lung_r))
    o["heart"] = _path(_smooth([(149, 197), (163, 189), (179, 198), (182, 218), (170, 238),
                                (153, 241), (143, 226), (144, 206)]))
    o["liver"] = _path(_smooth([(104, 244), (130, 237), (160, 239), (180, 245), (171, 256),
                                (148, 267), (121, 277), (106, 269)]))
    o["spleen"] = _ellipse(188, 263, 7, 14, 20)
    o["gut"] = _path(_smooth([(124, 304), (150, 297), (176, 304), (183, 332), (176, 361),
                              (150, 373), (124, 361), (117, 332)]))
    o["brain"] = _ellipse(150, 44, 26, 27)
    o["target"] = _target(target)
    o["skin"] = _path(sil) + _head()
    return o


def _target(target: str | None) -> str:
    if target is None:
        return ""
    if target == "joint":
        spots = [(121, 491), (179, 491), (76, 233), (224, 233), (62, 350), (238, 350), (107, 124),
                 (193, 124), (125, 588), (175, 588)]
        return "".join(_ellipse(x, y, 7, 7) for x, y in spots)
    if target == "cns":
        return _ellipse(150, 44, 20, 21) + _path(_smooth([(146, 72), (154, 72), (154, 122), (146, 122)], k=0.2))
    if target == "gut_wall":
        return _path(_smooth([(124, 304), (150, 297), (176, 304), (183, 332), (176, 361), (150, 373),
                              (124, 361), (117, 332)]) + " " +
                     _smooth([(130, 312), (150, 307), (170, 312), (174, 332), (170, 352), (150, 362),
                              (130, 352), (126, 332)]), fill_rule="evenodd")
    if target == "pancreas":
        return _path(_smooth([(136, 284), (160, 278), (182, 276), (185, 283), (160, 290), (139, 292)]))
    if target == "liver":
        return _path(_smooth([(116, 248), (140, 243), (160, 246), (150, 258), (125, 266)]))
    if target == "kidney":
        return _ellipse(114, 300, 4, 9, -8) + _ellipse(186, 300, 4, 9, 8)
    if target == "heart":
        return _path(_smooth([(153, 204), (165, 198), (175, 207), (172, 224), (160, 232), (149, 222)]))
    if target == "perianal_fistula":
        return _ellipse(150, 402, 7, 6)
    # any other tissue: a small marker in the lower belly
    return _ellipse(150, 340, 9, 9)


#: where each label points (figure coordinates) and on which side it sits
_LABELS: dict[str, tuple[str, Pt]] = {
    "brain": ("L", (128, 40)), "lung": ("L", (112, 190)), "liver": ("L", (112, 258)),
    "kidney": ("L", (110, 302)), "marrow": ("L", (120, 440)), "muscle": ("L", (114, 535)),
    "skin": ("L", (97, 600)),
    "blood": ("R", (150, 100)), "heart": ("R", (176, 212)), "spleen": ("R", (190, 262)),
    "gut": ("R", (178, 340)), "adipose": ("R", (196, 375)), "rest": ("R", (190, 420)),
    "target": ("R", (179, 491)),
}
#: where the target label points, per target tissue
_TARGET_ANCHOR: dict[str, Pt] = {
    "joint": (179, 491), "cns": (154, 100), "gut_wall": (177, 352), "pancreas": (182, 280),
    "liver": (152, 252), "kidney": (186, 300), "heart": (172, 216), "perianal_fistula": (155, 402),
}
_LABEL_Y = {
    "brain": 40, "lung": 150, "liver": 250, "kidney": 310, "marrow": 430, "muscle": 530, "skin": 600,
    "blood": 96, "heart": 205, "spleen": 262, "gut": 330, "adipose": 380, "rest": 430, "target": 500,
}

ORGAN_ORDER = ("lung", "liver", "spleen", "gut", "kidney", "heart", "brain", "marrow", "muscle",
               "skin", "adipose", "rest", "blood", "target")
_STROKE_PAINTED = {"skin", "blood"}


def color_at(pct: float) -> str:
    """The colour the report's script gives ``pct`` percent of dose (for tests and the PNG)."""
    if not pct > 0:
        return NONE_COLOR
    x = (math.log10(pct) - LOG_MIN) / (LOG_MAX - LOG_MIN)
    x = min(max(x, 0.0), 1.0)
    for (p0, c0), (p1, c1) in zip(COLOR_STOPS, COLOR_STOPS[1:]):
        if x <= p1:
            f = (x - p0) / (p1 - p0) if p1 > p0 else 0.0
            a = [int(c0[i:i + 2], 16) for i in (1, 3, 5)]
            b = [int(c1[i:i + 2], 16) for i in (1, 3, 5)]
            return "#" + "".join(f"{round(u + (v - u) * f):02x}" for u, v in zip(a, b))
    return COLOR_STOPS[-1][1]


def body_svg(target: str | None = None, target_label: str | None = None) -> str:
    """The body map as an ``<svg>`` element (organs uncoloured; the script colours them)."""
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" id="bodymap-svg" class="bodymap" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="body map: MSCs per organ">',
             "<defs>",
             '<linearGradient id="bm-scale" x1="0" x2="1" y1="0" y2="0">',
             *[f'<stop offset="{p:g}" stop-color="{c}"/>' for p, c in COLOR_STOPS],
             "</linearGradient>",
             "</defs>"]
    organs = _organs(target)
    for name, content in organs.items():
        if not content:
            continue
        title = escape(f"target tissue: {target_label or target}" if name == "target" else name)
        if name in _STROKE_PAINTED:
            width = 5 if name == "skin" else 3.5
            attrs = (f'data-paint="stroke" fill="none" stroke="{NONE_COLOR}" stroke-width="{width}" '
                     'stroke-linecap="round" stroke-linejoin="round"')
        elif name == "target":
            attrs = (f'data-paint="fill" fill="{NONE_COLOR}" stroke="#111" stroke-width="1.6" '
                     'stroke-dasharray="3 2"')
        elif name == "rest":       # the body around the organs: lighter, so the organs stand out
            attrs = f'data-paint="fill" fill="{NONE_COLOR}" fill-opacity="0.5" stroke="none"'
        else:
            attrs = f'data-paint="fill" fill="{NONE_COLOR}" stroke="#6b6b6b" stroke-width="0.8"'
        parts.append(f'<g class="organ" id="organ-{name}" data-organ="{name}" {attrs}>'
                     f"<title>{title}</title>{content}</g>")
    # decorative gut loops (not data)
    loops = _smooth([(128, 318), (172, 316), (170, 330), (130, 332), (130, 346), (170, 344), (160, 360),
                     (140, 360)], closed=False, k=0.6)
    parts.append(f'<path d="{loops}" fill="none" stroke="rgba(0,0,0,0.25)" stroke-width="1" '
                 'pointer-events="none"/>')
    # labels
    for name, (side, (ax, ay)) in _LABELS.items():
        if name == "target" and target is None:
            continue
        if name not in organs:
            continue
        ly = _LABEL_Y[name]
        if name == "target":
            ax, ay = _TARGET_ANCHOR.get(target, (150, 340))
        text = f"target: {target_label or target}" if name == "target" else name
        if side == "L":
            tx, anchor, lx = X0 + 38, "end", X0 + 42
        else:
            tx, anchor, lx = X0 + 262, "start", X0 + 258
        parts.append(f'<path class="leader" d="M{_fmt(lx)},{_fmt(ly - 3)} L{_fmt(ax + X0)},{_fmt(ay)}" '
                     'stroke="#999" stroke-width="0.6" fill="none"/>')
        parts.append(f'<text class="bm-label" x="{_fmt(tx)}" y="{_fmt(ly)}" text-anchor="{anchor}">'
                     f'{escape(text)} <tspan class="bm-value" data-value="{name}">-</tspan></text>')
    # colour bar
    y0 = 640
    bx, bw = 110, 280
    parts.append(f'<g id="bm-colorbar" class="colorbar"><text x="{bx + bw / 2:g}" y="{y0 - 8}" '
                 f'text-anchor="middle" class="bm-cbtitle" id="bm-cbtitle">viable MSCs, % of cells given '
                 f'(log scale)</text>')
    parts.append(f'<rect x="{bx}" y="{y0}" width="{bw}" height="12" fill="url(#bm-scale)" stroke="#666" '
                 'stroke-width="0.6"/>')
    for e in range(int(LOG_MIN), int(LOG_MAX) + 1):
        x = bx + bw * (e - LOG_MIN) / (LOG_MAX - LOG_MIN)
        lab = f"{10.0 ** e:g}"
        lab = ("\u2264" + lab) if e == LOG_MIN else lab
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y0 + 12}" y2="{y0 + 16}" stroke="#444"/>'
                     f'<text x="{x:.1f}" y="{y0 + 27}" text-anchor="middle" class="bm-tick">{lab}</text>')
    parts.append(f'<rect x="{bx - 58}" y="{y0}" width="14" height="12" fill="{NONE_COLOR}" stroke="#666" '
                 f'stroke-width="0.6"/><text x="{bx - 40}" y="{y0 + 10}" class="bm-tick">none</text>')
    parts.append("</g></svg>")
    return "".join(parts)
