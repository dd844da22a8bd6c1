"""Explanations of both stages: Grad-CAM, LIME and integrated-gradients maps, carried back onto the face
and the photo, per-region summaries, overlays, faithfulness, sanity checks and population heatmaps.

Entry point: :func:`explain.base.explain` (an :class:`~models.pipeline.Assessment` in, a list of
:class:`~explain.types.Explanation` out). Sides are patient sides throughout.
"""

from explain.base import METHODS, ExplainError, explain, face_to_photo, get_explainer, to_face_map
from explain.types import Explainer, Explanation, MapSource, RegionScore, RegionSummary

__all__ = [
    "METHODS",
    "ExplainError",
    "Explainer",
    "Explanation",
    "MapSource",
    "RegionScore",
    "RegionSummary",
    "explain",
    "face_to_photo",
    "get_explainer",
    "to_face_map",
]
