"""Per-region summary of an explanation: which named facial regions, on which patient side, drove it.

:func:`summarise` sums the face map (``Explanation.face_map``, over ``geometry.aligned``) inside each
sided region of ``geometry.regions`` (the one landmark-driven definition in :mod:`faces.regions`): the
signed sum, the absolute sum and the share of the map's total absolute mass, ranked by the absolute sum.
Sums are over aligned-face pixels, so they compare across regions of one map; shares compare across maps.
A half-face map is 0 on the other half, so only that half's regions carry mass.

:func:`region_chart` draws the ranked summary as a plotly horizontal bar chart (signed shares; orange
"raises PSPI" / blue "lowers PSPI", or for the side model "points to" / "points away from" the side
explained; Okabe-Ito colours, safe for colour-blind readers). :func:`sentence` says it in one line.
For a centred map (see :mod:`explain.gradcam`) the words are relative: "raises PSPI more than average",
"driven most by".
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from explain.types import Explanation, RegionScore, RegionSummary
from faces.regions import REGION_NAMES
from faces.sides import Side
from faces.types import FaceGeometry

#: Okabe-Ito orange and blue: bars that raise the output / lower it.
RAISES_COLOUR = "#E69F00"
LOWERS_COLOUR = "#0072B2"


def region_label(region: str, side: Side) -> str:
    """``"brow, patient's left"``."""
    return f"{region}, patient's {side.value}"


def _split_key(key: str) -> tuple[str, Side]:
    region, _, side = key.rpartition("_")
    return region, Side.parse(side)


def summarise(explanation: Explanation, geometry: FaceGeometry) -> RegionSummary:
    """Signed and absolute attribution per sided region of ``geometry``, ranked (largest absolute first)."""
    face_map = np.asarray(explanation.face_map, np.float64)
    if face_map.shape != geometry.aligned.shape[:2]:
        raise ValueError(f"The face map {face_map.shape} does not fit this face {geometry.aligned.shape[:2]}")
    magnitude = np.abs(face_map)
    total = float(magnitude.sum())
    scores = []
    inside = 0.0
    for key, mask in geometry.regions.items():
        region, side = _split_key(key)
        absolute = float(magnitude[mask].sum())
        inside += absolute
        scores.append(RegionScore(
            key=key, region=region, side=side, label=region_label(region, side),
            signed=float(face_map[mask].sum()), absolute=absolute,
            share=absolute / total if total > 0 else 0.0, pixels=int(mask.sum()),
        ))
    order = {name: i for i, name in enumerate(REGION_NAMES)}
    scores.sort(key=lambda s: (-s.absolute, order.get(s.region, 99), s.side.value))
    outside = max(0.0, 1.0 - inside / total) if total > 0 else 0.0
    summary = RegionSummary(
        method=explanation.method, stage=explanation.stage, half=explanation.half, target=explanation.target,
        scores=tuple(scores), total_absolute=total, outside_share=outside, sentence="",
        centred=bool(explanation.params.get("centred", False)),
    )
    return replace(summary, sentence=sentence(summary))


def _phrase(scores: list[RegionScore]) -> str:
    """``"the brow and eye of the patient's right"``, ``"the cheek on both sides"`` or ``"the brow of the
    patient's right and the mouth of the patient's left"``."""
    sides = {s.side for s in scores}
    if len(scores) == 2 and len(sides) == 2 and scores[0].region == scores[1].region:
        return f"the {scores[0].region} on both sides"
    if len(sides) == 1:
        names = [s.region for s in scores]
        joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        return f"the {joined} of the patient's {scores[0].side.value}"
    return " and ".join(f"the {s.region} of the patient's {s.side.value}" for s in scores)


def _leading(scores: list[RegionScore], sign: float) -> list[RegionScore]:
    """Regions whose signed sum has ``sign``, largest first; the second only if at least half the first."""
    chosen = sorted((s for s in scores if s.signed * sign > 0), key=lambda s: -abs(s.signed))[:2]
    if len(chosen) == 2 and abs(chosen[1].signed) < 0.5 * abs(chosen[0].signed):
        chosen = chosen[:1]
    return chosen


def sentence(summary: RegionSummary) -> str:
    """One line in plain words, patient sides spelled out."""
    scores = list(summary.scores)
    if summary.total_absolute <= 0 or not any(s.absolute > 0 for s in scores):
        return "The map is empty: no facial region moved this output."
    up, down = _leading(scores, 1.0), _leading(scores, -1.0)
    if summary.stage == "side":
        side_text = summary.target.removeprefix("affected: ")
        head = (f"The evidence that the {side_text} is affected came mostly from {_phrase(up)}" if up
                else f"No region pointed to the {side_text}")
        tail = f"; {_phrase(down[:1])} pointed the other way" if down and (
            not up or abs(down[0].signed) >= 0.25 * abs(up[0].signed)) else ""
        return head + tail + "."
    what = "PSPI" if summary.stage == "pain" else "The full-face PSPI"
    if summary.centred:
        head = f"{what} was driven most by {_phrase(up)}" if up else f"No region stood out for the {what}"
        least = "drove it least"
    else:
        head = f"{what} rose mostly from {_phrase(up)}" if up else f"No region raised the {what}"
        least = "held it down"
    tail = f"; {_phrase(down[:1])} {least}" if down and (
        not up or abs(down[0].signed) >= 0.25 * abs(up[0].signed)) else ""
    return head + tail + "."


def region_chart(summary: RegionSummary, top: int | None = None, title: str | None = None) -> Any:
    """Plotly horizontal bar chart of signed shares (signed sum / total absolute), largest at the top.

    ``top`` keeps the first regions of the ranking (default: every region with any mass).
    """
    import plotly.graph_objects as go

    scores = [s for s in summary.scores if s.absolute > 0][: top or None]
    total = summary.total_absolute or 1.0
    if summary.stage == "side":
        side_text = summary.target.removeprefix("affected: ")
        up_name, down_name = f"points to the {side_text}", f"points away from the {side_text}"
    else:
        up_name, down_name = (("raises PSPI more than average", "less than average") if summary.centred
                              else ("raises PSPI", "lowers PSPI"))
    figure = go.Figure()
    for name, colour, keep in ((up_name, RAISES_COLOUR, True), (down_name, LOWERS_COLOUR, False)):
        chosen = [s for s in reversed(scores) if (s.signed > 0) == keep]
        figure.add_trace(go.Bar(
            x=[s.signed / total for s in chosen], y=[s.label for s in chosen], orientation="h", name=name,
            marker_color=colour, customdata=[[s.share] for s in chosen],
            hovertemplate="%{y}: %{x:+.1%} (absolute share %{customdata[0]:.1%})<extra>" + name + "</extra>",
        ))
    figure.update_layout(
        title=title or f"{summary.method} · {summary.target}" + (
            f" · patient's {summary.half.value} half" if summary.half else ""),
        barmode="relative", xaxis_title="signed share of the map's total attribution",
        xaxis_tickformat="+.0%", yaxis={"categoryorder": "array",
                                        "categoryarray": [s.label for s in reversed(scores)]},
        legend={"orientation": "h", "y": -0.2}, height=120 + 28 * max(len(scores), 1),
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )
    return figure


__all__ = ["LOWERS_COLOUR", "RAISES_COLOUR", "region_chart", "region_label", "sentence", "summarise"]
