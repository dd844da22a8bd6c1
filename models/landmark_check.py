"""The landmark pain estimate as a cross-check of the pain network, and the warning when they disagree.

:func:`landmark_estimate` runs :func:`faces.au_proxy.estimate_pain` on the levelled face's landmarks (pure
numpy, well under a millisecond). :func:`disagreement_warning` compares it with the network on the scored
half: when the two PSPI values are more than :data:`DISAGREE_ABOVE` points apart it says so in plain words,
with the likeliest reason. The landmark estimate only sees how far brows, lids, nose and lip have moved,
so when it reads higher the question is which movement it read as pain (a broad smile raises the cheek
and narrows the eye, which is AU6/7); when the network reads higher, the network is reacting to something
the landmarks do not show.
"""

from __future__ import annotations

from faces.au_proxy import TERM_MAX, HalfPainEstimate, estimate_pain
from faces.sides import Side
from faces.types import FaceGeometry

#: PSPI points between the landmark estimate and the network (scored half) above which a warning is given.
DISAGREE_ABOVE = 4.0

_WHY_HIGHER = {
    "AU6/7": ("narrowed eyes and raised cheeks (AU6/7 {value:.1f} of 5): a broad smile raises the cheeks and "
              "narrows the eyes in the same way, so a smiling face scores here without being in pain"),
    "AU4": ("a lowered brow (AU4 {value:.1f} of 5): a person whose brows sit low at rest, or who frowns in "
            "concentration, reads the same way; a neutral reference photo removes the resting part"),
    "AU9/10": ("a raised upper lip or wrinkled nose (AU9/10 {value:.1f} of 5): speaking, or a person's "
               "resting lip shape, can read the same way"),
    "AU43": "a closed eye (AU43): a blink at the moment of the photo reads the same way",
}


def landmark_estimate(geometry: FaceGeometry) -> dict[Side, HalfPainEstimate]:
    """The landmark pain estimate of both patient halves of an analysed face."""
    return estimate_pain(geometry.aligned_landmarks, geometry.mirrored)


def dominant_term(estimate: HalfPainEstimate) -> str:
    """The PSPI term that contributes most to the estimate, each term as a share of its own maximum."""
    return max(estimate.aus, key=lambda term: float(estimate.aus[term]) / TERM_MAX[term])


def disagreement_warning(estimate: HalfPainEstimate, network: float, where: str, *,
                         threshold: float = DISAGREE_ABOVE) -> str | None:
    """A plain warning when the landmark estimate and the network's PSPI of the half ``where`` (e.g.
    "patient's right (image left)") are more than ``threshold`` points apart, else None."""
    gap = float(estimate.pspi) - float(network)
    if abs(gap) <= threshold:
        return None
    head = (f"The landmark estimate ({estimate.pspi:.1f}) and the network ({network:.1f}) disagree on the "
            f"scored half, the {where}.")
    if gap > 0:
        term = dominant_term(estimate)
        reason = _WHY_HIGHER[term].format(value=float(estimate.aus[term]))
        return f"{head} The landmarks show mostly {reason}."
    return (f"{head} The landmarks show little of the movements pain makes; the network may be reacting to "
            "something else in the photo (lighting, skin texture, glasses, a face unlike the faces it was "
            "trained on). Look at the photo before trusting either number.")


__all__ = ["DISAGREE_ABOVE", "disagreement_warning", "dominant_term", "landmark_estimate"]
