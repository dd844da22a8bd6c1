"""Training augmentation of uint8 batches: photometric jitter, a small similarity warp, grey and
low-resolution copies, and for the side task a mirror image with its label swapped (exact, since
mirroring the canonical face swaps the patient sides). Half faces are never flipped."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def augment(images: torch.Tensor, targets: torch.Tensor, task: str, generator: torch.Generator,
            *, flip_side: bool = True, max_shift: float = 0.04, max_rotation: float = 4.0,
            max_scale: float = 0.06, grayscale_p: float | None = None,
            low_resolution_p: float | None = None,
            randomise: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Light augmentation of a uint8 batch ``(N, 3, H, W)``; returns ``(float images in [0, 255], targets)``.

    Per image: contrast x[0.8, 1.2], brightness +-20, a colour cast (each channel x[0.92, 1.08]) and a
    small similarity warp (rotation up to ``max_rotation`` degrees, scale 1 +- ``max_scale``, shift up to
    ``max_shift`` of the size; edges replicated) for the landmark and crop jitter of real photos. With
    probability ``grayscale_p`` the image becomes grey (luminance in all three channels: black-and-white
    and infrared photos), and with probability ``low_resolution_p`` it is shrunk to 30-70 % of its size and
    enlarged back (small faces in wide shots; images under 32 pixels are left sharp). By default these two
    are 0.15 and 0.25 for pain models and off for the side model: it decides from fine asymmetries that
    shrinking blurs away (with them on, the demo side model sat near chance for 18 epochs, and on the
    astronaut photo its mirror swap error grew from 0.12 to 0.30). For the side task
    only, a horizontal flip with the label swapped (p = 0.5): mirroring the canonical face swaps the
    patient sides. Half faces are never flipped (their midline edge stays where it is).

    ``randomise=True`` adds the stronger domain randomisation the demo models train with, for the gap
    between rendered faces and photographs (:func:`randomise_photometry`): wider contrast, brightness and
    colour ranges, gamma, saturation, sensor noise, and for the pain models Gaussian blur.
    """
    n, _, h, w = images.shape
    x = images.float()
    contrast = torch.empty(n, 1, 1, 1).uniform_(0.8, 1.2, generator=generator)
    brightness = torch.empty(n, 1, 1, 1).uniform_(-20.0, 20.0, generator=generator)
    cast = torch.empty(n, 3, 1, 1).uniform_(0.92, 1.08, generator=generator)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (((x - mean) * contrast + mean + brightness) * cast).clamp_(0, 255)
    if max_shift or max_rotation or max_scale:
        angle = torch.empty(n).uniform_(-max_rotation, max_rotation, generator=generator).deg2rad()
        scale = torch.empty(n).uniform_(1 - max_scale, 1 + max_scale, generator=generator)
        # grid units span [-1, 1], so a shift of max_shift of the size is 2 * max_shift
        shift = torch.empty(n, 2).uniform_(-2 * max_shift, 2 * max_shift, generator=generator)
        cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
        aspect = h / w  # rotate in pixel space, not in the normalised square
        theta = torch.stack([torch.stack([cos, -sin * aspect, shift[:, 0]], 1),
                             torch.stack([sin / aspect, cos, shift[:, 1]], 1)], 1)
        grid = F.affine_grid(theta, [n, 3, h, w], align_corners=False)
        x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    if randomise:
        x = randomise_photometry(x, generator, blur=task != "side")
    if grayscale_p is None:
        grayscale_p = 0.0 if task == "side" else 0.15
    if low_resolution_p is None:
        low_resolution_p = 0.0 if task == "side" else 0.25
    if grayscale_p > 0:
        grey = torch.rand(n, generator=generator) < grayscale_p
        luminance = (x[:, 0:1] * 0.299 + x[:, 1:2] * 0.587 + x[:, 2:3] * 0.114).expand(-1, 3, -1, -1)
        x = torch.where(grey[:, None, None, None], luminance, x)
    if low_resolution_p > 0 and min(h, w) >= 32:
        factors = torch.empty(n).uniform_(0.3, 0.7, generator=generator)
        chosen = (torch.rand(n, generator=generator) < low_resolution_p).nonzero().flatten().tolist()
        for i in chosen:
            size = (max(8, round(h * float(factors[i]))), max(8, round(w * float(factors[i]))))
            small = F.interpolate(x[i:i + 1], size=size, mode="area")
            x[i:i + 1] = F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)
    if task == "side" and flip_side:
        flip = torch.rand(n, generator=generator) < 0.5
        x[flip] = torch.flip(x[flip], dims=(-1,))
        targets = torch.where(flip, 1.0 - targets, targets)
    return x, targets



def randomise_photometry(x: torch.Tensor, generator: torch.Generator, *, blur: bool = True) -> torch.Tensor:
    """Per image of a float batch in [0, 255]: gamma x[0.7, 1.45], saturation x[0.4, 1.4], contrast
    x[0.75, 1.3], brightness +-25, colour cast x[0.88, 1.12] per channel, sensor noise (p 0.5, sigma
    1-7 grey levels) and with ``blur`` a Gaussian blur (p 0.3, sigma 0.4-1.3 pixels)."""
    n = x.shape[0]

    def uniform(low: float, high: float, *shape: int) -> torch.Tensor:
        return torch.empty(n, *shape).uniform_(low, high, generator=generator)

    x = 255.0 * (x / 255.0).clamp(0, 1) ** uniform(0.7, 1.45, 1, 1, 1)
    luminance = x[:, 0:1] * 0.299 + x[:, 1:2] * 0.587 + x[:, 2:3] * 0.114
    x = luminance + (x - luminance) * uniform(0.4, 1.4, 1, 1, 1)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - mean) * uniform(0.75, 1.3, 1, 1, 1) + mean + uniform(-25.0, 25.0, 1, 1, 1)
    x = x * uniform(0.88, 1.12, 3, 1, 1)
    noisy = (torch.rand(n, generator=generator) < 0.5).float()[:, None, None, None]
    sigma = uniform(1.0, 7.0, 1, 1, 1) * noisy
    x = x + torch.randn(x.shape, generator=generator) * sigma
    if blur:
        from torchvision.transforms.functional import gaussian_blur

        chosen = (torch.rand(n, generator=generator) < 0.3).nonzero().flatten().tolist()
        sigmas = uniform(0.4, 1.3)
        for i in chosen:
            s = float(sigmas[i])
            x[i] = gaussian_blur(x[i], kernel_size=2 * int(round(2.5 * s)) + 1, sigma=s)
    return x.clamp_(0, 255)


__all__ = ["augment", "randomise_photometry"]
