#!/usr/bin/python3
"""Draws the feature-maps demo's default input images (demos/feature-maps/images/*.png), 384×384.

Made by the project, so they carry the project's licence. Run with Debian's python3-matplotlib:
    /usr/bin/python3 scripts/make-feature-images.py

The pose model in the demo (MoveNet) was trained on people, so two scenes hold a figure: its maps light up
on limbs and joints. The third is a test card of edges, gratings and blobs, where early layers act as the
oriented edge and colour detectors one expects.
"""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Circle, Ellipse, Polygon, Rectangle

OUT = Path(__file__).resolve().parent.parent / "demos" / "feature-maps" / "images"
SIZE_INCHES, DPI = 4, 96  # 384 px


def canvas():
    fig = plt.figure(figsize=(SIZE_INCHES, SIZE_INCHES), dpi=DPI)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    return fig, ax


def limb(ax, a, b, width, color):
    ax.plot([a[0], b[0]], [a[1], b[1]], color=color, linewidth=width, solid_capstyle="round", zorder=3)


def figure(ax, hip, scale, pose, skin="#e0b090", shirt="#2a6fdb", trousers="#303848"):
    """A person from joints: pose holds (dx, dy) offsets of elbows, hands, knees and feet from the body."""
    x, y = hip
    neck = (x, y + 0.30 * scale)
    head = (x, y + 0.40 * scale)
    shoulders = [(x - 0.08 * scale, y + 0.28 * scale), (x + 0.08 * scale, y + 0.28 * scale)]
    hips = [(x - 0.05 * scale, y), (x + 0.05 * scale, y)]
    ax.add_patch(Polygon([shoulders[0], shoulders[1], hips[1], hips[0]], color=shirt, zorder=2))
    for side, shoulder in zip((-1, 1), shoulders):
        elbow = (shoulder[0] + side * pose["elbow"][0] * scale, shoulder[1] + pose["elbow"][1] * scale)
        hand = (elbow[0] + side * pose["hand"][0] * scale, elbow[1] + pose["hand"][1] * scale)
        limb(ax, shoulder, elbow, 11 * scale, shirt)
        limb(ax, elbow, hand, 9 * scale, skin)
    for side, h in zip((-1, 1), hips):
        knee = (h[0] + side * pose["knee"][0] * scale, h[1] - 0.22 * scale)
        foot = (knee[0] + side * pose["foot"][0] * scale, knee[1] - 0.22 * scale)
        limb(ax, h, knee, 13 * scale, trousers)
        limb(ax, knee, foot, 11 * scale, trousers)
    limb(ax, neck, (x, y + 0.27 * scale), 8 * scale, skin)
    ax.add_patch(Circle(head, 0.075 * scale, color=skin, zorder=4))


def meadow():
    fig, ax = canvas()
    sky = np.linspace(0, 1, 256)[:, None] * np.ones((1, 2))
    ax.imshow(sky, extent=(0, 1, 0.35, 1), cmap="Blues", vmin=-0.6, vmax=1.4, aspect="auto", origin="lower")
    ax.add_patch(Circle((0.82, 0.85), 0.07, color="#ffd34d", zorder=1))
    ax.add_patch(Ellipse((0.2, 0.33), 1.0, 0.3, color="#5c9e45", zorder=1))
    ax.add_patch(Ellipse((0.85, 0.30), 0.9, 0.22, color="#4d8a3a", zorder=1))
    ax.add_patch(Rectangle((0, 0), 1, 0.3, color="#6fb04f", zorder=1))
    figure(ax, (0.5, 0.42), 0.95, {"elbow": (0.10, 0.12), "hand": (0.04, 0.14), "knee": (0.05, 0), "foot": (0.03, 0)})
    return fig


def street():
    fig, ax = canvas()
    ax.add_patch(Rectangle((0, 0), 1, 1, color="#d9d4c7"))
    for i, h in enumerate([0.55, 0.75, 0.62, 0.8, 0.5]):
        ax.add_patch(Rectangle((i * 0.2, 0.25), 0.19, h, color=["#a35d4f", "#7d8da1", "#c4a35a", "#6b705c", "#9a8c98"][i]))
        for wy in np.arange(0.32, 0.25 + h - 0.08, 0.1):
            for wx in (0.03, 0.11):
                ax.add_patch(Rectangle((i * 0.2 + wx, wy), 0.05, 0.06, color="#f2efe6"))
    ax.add_patch(Rectangle((0, 0), 1, 0.25, color="#55585e"))
    for sx in np.arange(0.02, 1, 0.14):
        ax.add_patch(Rectangle((sx, 0.11), 0.08, 0.02, color="#f0f0f0"))
    figure(ax, (0.32, 0.36), 0.8, {"elbow": (0.06, -0.12), "hand": (0.02, -0.12), "knee": (0.07, 0), "foot": (-0.02, 0)},
           shirt="#d94a38", trousers="#1f2a44")
    figure(ax, (0.72, 0.34), 0.75, {"elbow": (0.14, 0.02), "hand": (0.12, 0.06), "knee": (0.10, 0), "foot": (0.08, 0)},
           skin="#8d5a3b", shirt="#f2b134", trousers="#3d3d3d")
    return fig


def test_card():
    fig, ax = canvas()
    n = 384
    yy, xx = np.mgrid[0:n, 0:n] / n
    image = np.zeros((n, n, 3))
    image[..., 0] = 0.5 + 0.5 * np.sin(2 * np.pi * 12 * xx)                    # vertical grating
    image[..., 1] = 0.5 + 0.5 * np.sin(2 * np.pi * 9 * (xx + yy) / np.sqrt(2))  # diagonal grating
    image[..., 2] = yy
    quadrant = (xx > 0.5) & (yy > 0.5)
    image[quadrant] = np.stack([xx, 1 - yy, 0.5 + 0 * xx], -1)[quadrant]
    ax.imshow(image, extent=(0, 1, 0, 1), origin="lower")
    ax.add_patch(Circle((0.25, 0.75), 0.15, color="#111111"))
    ax.add_patch(Circle((0.25, 0.75), 0.08, color="#ffffff"))
    ax.add_patch(Polygon([(0.6, 0.1), (0.9, 0.1), (0.75, 0.4)], color="#e63946"))
    ax.add_patch(Rectangle((0.08, 0.08), 0.3, 0.3, color="#ffffff"))
    for i in range(6):
        ax.add_patch(Rectangle((0.08 + i * 0.05, 0.08), 0.025, 0.3, color="#000000"))
    ax.text(0.75, 0.75, "Aa", fontsize=48, ha="center", va="center", color="#000000", weight="bold")
    return fig


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for name, draw in [("meadow", meadow), ("street", street), ("test-card", test_card)]:
        fig = draw()
        fig.savefig(OUT / f"{name}.png", dpi=DPI)
        plt.close(fig)
        print(OUT / f"{name}.png")


if __name__ == "__main__":
    main()
