# Copyright 2026 jepa_agent developers
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
"""Figures for the simulator and the agent: top-down layout, trajectories, goals, futures, frames.

Headless (matplotlib Agg). The drawing helpers take a matplotlib Axes so callers can compose
their own figures; `episode_figure` composes the standard one (camera strip over a top-down
map) and `save_figure` writes it.
"""

import pathlib

import matplotlib

matplotlib.use('Agg')

import matplotlib.patches as mpatches  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from world_model.envs.layouts import Layout  # noqa: E402


def draw_layout(ax, layout: Layout):
    """Arena floor, walls, landmarks and obstacles in their simulator colours (top-down)."""
    xmin, xmax, ymin, ymax = layout.bounds
    ax.add_patch(mpatches.Rectangle((xmin, ymin), xmax - xmin, ymax - ymin,
                                    facecolor='0.96', edgecolor='none', zorder=0))
    for block in layout.blocks:
        cx, cy = block.center
        sx, sy = block.size
        if block.shape == 'cylinder':
            patch = mpatches.Circle((cx, cy), sx / 2)
        else:
            patch = mpatches.Rectangle((cx - sx / 2, cy - sy / 2), sx, sy)
        patch.set(facecolor=block.rgba[:3], edgecolor='0.2', linewidth=0.5, zorder=1)
        ax.add_patch(patch)
    pad = 0.15
    ax.set_xlim(xmin - pad, xmax + pad)
    ax.set_ylim(ymin - pad, ymax + pad)
    ax.set_aspect('equal')
    ax.set_xlabel('x [m]')
    ax.set_ylabel('y [m]')


def draw_pose(ax, pose, color='k', size=0.25, label=None, marker='o'):
    """A pose as a dot with a heading arrow."""
    x, y, yaw = (float(v) for v in pose)
    ax.plot([x], [y], marker=marker, color=color, markersize=6, zorder=4, label=label,
            linestyle='none')
    ax.annotate('', xy=(x + size * np.cos(yaw), y + size * np.sin(yaw)), xytext=(x, y),
                arrowprops=dict(arrowstyle='->', color=color, lw=1.5), zorder=4)


def draw_trajectory(ax, poses, color='tab:blue', label='trajectory', collisions=None):
    """Path of (x, y, yaw) poses [T, 3]; start and end marked, collisions as red crosses."""
    poses = np.asarray(poses, dtype=float).reshape(-1, 3)
    if len(poses) == 0:
        return
    ax.plot(poses[:, 0], poses[:, 1], '-', color=color, lw=1.2, label=label, zorder=3)
    draw_pose(ax, poses[0], color=color, marker='s')
    draw_pose(ax, poses[-1], color=color)
    if collisions is not None:
        hit = np.asarray(collisions, dtype=bool)
        if hit.any():
            ax.plot(poses[hit, 0], poses[hit, 1], 'x', color='red', markersize=5, zorder=5,
                    label='collision', linestyle='none')


def draw_goal(ax, pose, color='gold', label='goal'):
    """A goal pose as a star with its heading."""
    x, y = float(pose[0]), float(pose[1])
    ax.plot([x], [y], marker='*', color=color, markersize=16, markeredgecolor='k', zorder=6,
            label=label, linestyle='none')
    draw_pose(ax, pose, color='k', size=0.3, marker='')


def draw_futures(ax, paths, costs=None, cmap='viridis_r', best=None):
    """Predicted future paths [K, H, >=2] in world coordinates; colour by cost when given."""
    paths = np.asarray(paths, dtype=float)
    if paths.size == 0:
        return
    colours = plt.get_cmap(cmap)(_normalise(costs, len(paths)))
    for k, path in enumerate(paths):
        ax.plot(path[:, 0], path[:, 1], '-', color=colours[k], lw=0.6, alpha=0.6, zorder=2)
    if best is not None:
        path = paths[best]
        ax.plot(path[:, 0], path[:, 1], '-', color='crimson', lw=2.0, zorder=3,
                label='chosen future')


def _normalise(costs, n):
    if costs is None:
        return np.linspace(0.0, 1.0, n)
    costs = np.asarray(costs, dtype=float)
    finite = np.isfinite(costs)
    if not finite.any():
        return np.zeros(n)
    lo, hi = costs[finite].min(), costs[finite].max()
    out = np.where(finite, (costs - lo) / max(hi - lo, 1e-12), 1.0)
    return out


def draw_frames(axes, images, titles=None):
    """Camera images into a row of axes (no ticks)."""
    for i, ax in enumerate(axes):
        ax.axis('off')
        if i < len(images):
            ax.imshow(images[i], interpolation='nearest')
            if titles is not None:
                ax.set_title(titles[i], fontsize=8)


def pick_frames(n_total: int, n: int) -> list[int]:
    """n evenly spaced frame indices out of n_total (first and last included)."""
    if n_total <= 0:
        return []
    return sorted({int(round(i)) for i in np.linspace(0, n_total - 1, min(n, n_total))})


def episode_figure(layout: Layout, poses, images=(), stamps_s=None, goal=None, goal_image=None,
                   collisions=None, futures=None, future_costs=None, best_future=None,
                   title=None, n_frames=8):
    """A camera-frame strip (plus the goal image) above a top-down map; returns the Figure."""
    index = pick_frames(len(images), n_frames)
    columns = max(len(index) + (goal_image is not None), 1)
    fig = plt.figure(figsize=(max(1.4 * columns, 6.0), 1.6 + 5.5))
    grid = fig.add_gridspec(2, columns, height_ratios=[1.4, 5.5], hspace=0.25)
    strip = [fig.add_subplot(grid[0, i]) for i in range(columns)]
    frames = [images[i] for i in index]
    titles = [f't={stamps_s[i]:.1f}s' if stamps_s is not None else f'#{i}' for i in index]
    if goal_image is not None:
        frames.append(goal_image)
        titles.append('goal')
    draw_frames(strip, frames, titles)
    ax = fig.add_subplot(grid[1, :])
    draw_layout(ax, layout)
    if futures is not None:
        draw_futures(ax, futures, future_costs, best=best_future)
    draw_trajectory(ax, poses, collisions=collisions)
    if goal is not None:
        draw_goal(ax, goal)
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        unique = dict(zip(labels, handles))
        ax.legend(unique.values(), unique.keys(), loc='upper left', fontsize=7,
                  bbox_to_anchor=(1.01, 1.0))
    if title:
        fig.suptitle(title)
    return fig


def save_figure(fig, path) -> pathlib.Path:
    """Write fig as PNG (creating the folder) and close it."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches='tight')
    plt.close(fig)
    return path
