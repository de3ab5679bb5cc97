# Copyright 2026 The Retro Walk authors
# SPDX-License-Identifier: MIT

"""Draw the Retro Walk brand images into custom_components/retro_walk/brand/.

Home Assistant 2026.3+ serves a custom integration's own brand images from
that folder (homeassistant/components/brands: icon.png, icon@2x.png,
logo.png, logo@2x.png and their dark_ variants). The mark is a walker on a
treadmill belt, facing left, with an arrow to the right: walking backwards.
The logo adds the words "Retro Walk".

Following the Home Assistant brands rules, every image is trimmed (no empty
border), has a transparent background and is an optimised, lossless PNG:
icons are square, 256x256 and 512x512 (@2x); logos are landscape, 128 and
256 px high. (The rules also prefer interlaced PNGs, which Pillow cannot
write.)

Run `python scripts/brand.py`; the output is the same on every run, so the
PNGs are committed and a re-run shows no diff.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

BRAND_DIR = Path(__file__).resolve().parent.parent / (
    "custom_components/retro_walk/brand"
)
FONT_PATHS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf"),
)

ICON_SIZE = 256
LOGO_HEIGHT = 128
# The mark is drawn on a 1000 x 1000 grid, rendered this many times larger
# than the biggest output, then scaled down: smooth edges without relying on
# anti-aliased drawing primitives.
SUPERSAMPLE = 4
GRID = 1000

RGBA = tuple[int, int, int, int]


@dataclass(frozen=True)
class Palette:
    """The colours of one variant (light or dark backgrounds)."""

    figure: RGBA
    machine: RGBA
    arrow: RGBA
    word_retro: RGBA
    word_walk: RGBA


LIGHT = Palette(
    figure=(0, 137, 123, 255),  # teal
    machine=(57, 73, 171, 255),  # indigo
    arrow=(0, 137, 123, 255),
    word_retro=(0, 137, 123, 255),
    word_walk=(57, 73, 171, 255),
)
DARK = Palette(
    figure=(77, 208, 196, 255),  # light teal
    machine=(159, 168, 218, 255),  # light indigo
    arrow=(77, 208, 196, 255),
    word_retro=(77, 208, 196, 255),
    word_walk=(197, 202, 233, 255),
)


def _stroke(
    draw: ImageDraw.ImageDraw,
    points: list[tuple[float, float]],
    width: float,
    fill: RGBA,
    scale: float,
) -> None:
    """A polyline with round joints and round caps, in grid units."""
    scaled = [(x * scale, y * scale) for x, y in points]
    draw.line(scaled, fill=fill, width=round(width * scale), joint="curve")
    radius = width * scale / 2
    for x, y in scaled:
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=fill)


def _mark(palette: Palette, pixels: int) -> Image.Image:
    """The walker on the treadmill, on a transparent square, not yet trimmed."""
    image = Image.new("RGBA", (pixels, pixels), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    s = pixels / GRID

    # The treadmill: a belt with its two rollers, and the console post and
    # handrail rising behind the walker's back (on the right).
    _stroke(draw, [(70, 880), (930, 880)], 70, palette.machine, s)
    for x in (105, 895):
        r = 22 * s
        draw.ellipse(
            (x * s - r, 880 * s - r, x * s + r, 880 * s + r), fill=(0, 0, 0, 0)
        )
    _stroke(draw, [(840, 850), (800, 380), (705, 380)], 56, palette.machine, s)

    # The walker, facing left, mid-stride, leaning slightly forward.
    limb = 78
    _stroke(draw, [(450, 370), (480, 580)], 96, palette.figure, s)  # torso
    _stroke(draw, [(480, 580), (400, 700), (300, 830)], limb, palette.figure, s)
    _stroke(draw, [(480, 580), (560, 715), (600, 830)], limb, palette.figure, s)
    _stroke(draw, [(450, 385), (385, 480), (330, 560)], 66, palette.figure, s)
    _stroke(draw, [(455, 385), (535, 470), (600, 535)], 66, palette.figure, s)
    head = (415, 225)
    r = 90 * s
    draw.ellipse(
        (head[0] * s - r, head[1] * s - r, head[0] * s + r, head[1] * s + r),
        fill=palette.figure,
    )

    # The direction of travel: backwards, to the right, over his shoulder.
    _stroke(draw, [(560, 215), (770, 215)], 62, palette.arrow, s)
    draw.polygon(
        [(x * s, y * s) for x, y in ((770, 120), (905, 215), (770, 310))],
        fill=palette.arrow,
    )
    return image


def _trim(image: Image.Image) -> Image.Image:
    """Crop to the non-transparent pixels."""
    box = image.getchannel("A").getbbox()
    if box is None:
        msg = "nothing was drawn"
        raise RuntimeError(msg)
    return image.crop(box)


def _fit_square(image: Image.Image, size: int) -> Image.Image:
    """Scale a trimmed image into a size x size square, centred."""
    factor = size / max(image.size)
    width = max(1, round(image.width * factor))
    height = max(1, round(image.height * factor))
    scaled = image.resize((width, height), Image.Resampling.LANCZOS)
    square = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    square.alpha_composite(scaled, ((size - width) // 2, (size - height) // 2))
    return square


def _font(size: int) -> ImageFont.FreeTypeFont | None:
    for path in FONT_PATHS:
        if path.is_file():
            return ImageFont.truetype(str(path), size)
    return None


def _logo(palette: Palette, height: int) -> Image.Image:
    """The mark followed by the words "Retro Walk", trimmed, `height` high."""
    big = height * SUPERSAMPLE
    mark = _trim(_mark(palette, big * 2))
    mark = mark.resize(
        (round(mark.width * big / mark.height), big), Image.Resampling.LANCZOS
    )
    font = _font(round(big * 0.56))
    if font is None:
        print("No DejaVu Sans Bold font: the logo is the mark without the words")
        return _fit_height(mark, height)

    gap = round(big * 0.16)
    words = (("Retro", palette.word_retro), (" Walk", palette.word_walk))
    probe = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
    text_width = round(sum(probe.textlength(word, font=font) for word, _ in words))
    canvas = Image.new("RGBA", (mark.width + gap + text_width, big), (0, 0, 0, 0))
    canvas.alpha_composite(mark, (0, 0))
    draw = ImageDraw.Draw(canvas)
    # The words sit on a baseline level with the middle of the stride, their
    # capitals centred on the figure's height.
    x = float(mark.width + gap)
    y = big * 0.5
    for word, colour in words:
        draw.text((x, y), word, font=font, fill=colour, anchor="lm")
        x += probe.textlength(word, font=font)
    return _fit_height(_trim(canvas), height)


def _fit_height(image: Image.Image, height: int) -> Image.Image:
    width = max(1, round(image.width * height / image.height))
    return image.resize((width, height), Image.Resampling.LANCZOS)


def _save(image: Image.Image, name: str) -> None:
    # Lossless, as the brands rules prefer; fully transparent pixels are made
    # transparent black so their leftover colour costs no bytes.
    path = BRAND_DIR / name
    clean = Image.new("RGBA", image.size, (0, 0, 0, 0))
    clean.paste(image, mask=image.getchannel("A").point(lambda a: 255 if a else 0))
    clean.save(path, format="PNG", optimize=True)
    print(f"{path.relative_to(BRAND_DIR.parents[2])}: {image.width}x{image.height}")


def main() -> None:
    """Write the eight brand images."""
    BRAND_DIR.mkdir(parents=True, exist_ok=True)
    for prefix, palette in (("", LIGHT), ("dark_", DARK)):
        for suffix, factor in (("", 1), ("@2x", 2)):
            size = ICON_SIZE * factor
            icon = _fit_square(_trim(_mark(palette, size * SUPERSAMPLE)), size)
            _save(icon, f"{prefix}icon{suffix}.png")
            _save(_logo(palette, LOGO_HEIGHT * factor), f"{prefix}logo{suffix}.png")


if __name__ == "__main__":
    main()
