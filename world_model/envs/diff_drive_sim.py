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
"""DiffDriveSim: a differential-drive robot with a forward RGB camera in a pybullet arena.

pybullet runs in DIRECT mode with its private client id (several simulators may share one
process) and renders with the software TinyRenderer, so no GL or display is needed. The robot
is driven kinematically: each substep integrates the unicycle model under acceleration limits
and a move that would make the robot's cylinder penetrate a wall or obstacle is refused (the
robot stops and the step reports a collision). Odometry integrates the robot's true motion
through a noisy, biased sensor model, starting at the true pose at reset. Everything random
(start pose, odometry noise, distractors, the 'random' layout) derives from reset's seed, so
the same seed and actions reproduce frames and poses exactly.
"""

import dataclasses
import math

import numpy as np
import pybullet

from world_model import geometry
from world_model.config import validate
from world_model.envs.layouts import WALL_THICKNESS, Block, Layout, build_layout
from world_model.envs.sim_config import SimConfig

FLOOR_TILE = 0.5  # checker tile side [m]
FLOOR_COLOURS = ((0.82, 0.82, 0.8, 1.0), (0.55, 0.6, 0.7, 1.0))
DISTRACTOR_COLOURS = (
    (1.0, 0.2, 0.6, 1.0),
    (0.6, 1.0, 0.1, 1.0),
    (1.0, 0.85, 0.0, 1.0),
    (0.2, 0.9, 1.0, 1.0),
    (1.0, 0.5, 0.2, 1.0),
)
_PENETRATION = -1e-6  # contact distance below which the robot overlaps a block [m]
_PARKED = [0.0, 0.0, -50.0]  # robot body position between contact queries


@dataclasses.dataclass
class SimStep:
    """What the robot senses (image, odometry) and what the simulator knows (truth, contact)."""

    image: np.ndarray  # uint8 [H, W, 3] RGB from the forward camera
    odom_pose: np.ndarray  # float64 (3,) x, y, yaw in the odometry frame ((0, 0, 0) at reset)
    odom_twist: np.ndarray  # float64 (2,) measured body-frame v, omega
    true_pose: np.ndarray  # float64 (3,) world frame
    true_twist: np.ndarray  # float64 (2,) true body-frame v, omega at the end of the step
    collision: bool  # a move was refused during this step (robot pushed against a block)
    time: float  # seconds since reset
    applied_action: np.ndarray  # float64 (2,) the command after clipping to the limits


def integrate_unicycle(pose, v: float, omega: float, dt: float) -> tuple[float, float, float]:
    """Exact constant-twist motion of (x, y, yaw) for dt seconds."""
    x, y, yaw = pose
    if abs(omega) < 1e-9:
        return x + v * dt * math.cos(yaw), y + v * dt * math.sin(yaw), yaw
    new_yaw = yaw + omega * dt
    r = v / omega
    return (x + r * (math.sin(new_yaw) - math.sin(yaw)),
            y - r * (math.cos(new_yaw) - math.cos(yaw)), geometry.wrap_angle(new_yaw))


def episode_layout(config: SimConfig, seed: int, layout: str | None = None) -> Layout:
    """The layout that reset(seed, layout) uses under config (the seed matters for 'random')."""
    layout_seed = seed if config.layout_seed < 0 else config.layout_seed
    return build_layout(layout or config.layout, config.arena_size, layout_seed)


def check_start_pose(layout: Layout, pose, radius: float) -> np.ndarray:
    """pose as a float array with wrapped yaw; ValueError when it is not a free pose."""
    pose = np.array(pose, dtype=float).reshape(-1)
    if pose.shape != (3,) or not np.all(np.isfinite(pose)):
        raise ValueError(f'start pose {pose.tolist()} must be 3 finite numbers (x, y, yaw)')
    if not layout.is_free(pose[0], pose[1], radius):
        raise ValueError(f'start pose {pose.tolist()} collides with the {layout.name!r} layout '
                         f'or leaves the arena (robot radius {radius} m, bounds '
                         f'{layout.bounds})')
    pose[2] = geometry.wrap_angle(pose[2])
    return pose


class DiffDriveSim:
    """Seeded, deterministic differential-drive simulator; see the module docstring."""

    def __init__(self, config: SimConfig | None = None):
        self.config = validate(config or SimConfig())
        self._client = pybullet.connect(pybullet.DIRECT)
        self._layout_key = None
        self.layout: Layout | None = None
        self._robot = None
        self._block_ids: set[int] = set()
        self._distractor_ids: list[int] = []
        self._distractor_pos = np.zeros((0, 3))
        self._distractor_vel = np.zeros((0, 2))
        cfg = self.config
        self._projection = pybullet.computeProjectionMatrixFOV(
            cfg.fov_deg, cfg.image_width / cfg.image_height, 0.03, cfg.arena_size * 2.0,
            physicsClientId=self._client)
        self._steps = 0
        self._pose = np.zeros(3)
        self._odom = np.zeros(3)
        self._twist = np.zeros(2)
        self._odom_twist = np.zeros(2)

    # -- public API -------------------------------------------------------------------------

    def reset(self, seed: int = 0, layout: str | None = None, pose=None) -> SimStep:
        """Start an episode; pose None samples a collision-free start pose from the seed."""
        cfg = self.config
        name = layout or cfg.layout
        layout_seed = seed if cfg.layout_seed < 0 else cfg.layout_seed
        key = (name, layout_seed if name == 'random' else 0)
        if key != self._layout_key:
            self._build(episode_layout(cfg, seed, name))
            self._layout_key = key
        pose_rng, odom_rng, distractor_rng = (
            np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3))
        if pose is None:
            pose = self.sample_free_pose(pose_rng)
        else:
            pose = check_start_pose(self.layout, pose, cfg.robot_radius)
        self._pose = pose
        self._odom = np.zeros(3)  # a robot base's odometry starts at zero at power-on
        self._twist = np.zeros(2)
        self._odom_twist = np.zeros(2)
        self._steps = 0
        self._odom_rng = odom_rng
        self._odom_scale = 1.0 + odom_rng.normal(0.0, cfg.odom_scale_error)
        self._gyro_bias = odom_rng.normal(0.0, cfg.odom_gyro_bias)
        self._distractor_rng = distractor_rng
        self._reset_distractors()
        return self._observe(collision=False, action=np.zeros(2))

    def step(self, action) -> SimStep:
        """Apply body-frame (v, omega) for one control period; non-finite values count as 0."""
        if self.layout is None:
            raise RuntimeError('DiffDriveSim.step() called before reset()')
        cfg = self.config
        command = np.nan_to_num(np.asarray(action, dtype=float).reshape(2), nan=0.0,
                                posinf=0.0, neginf=0.0)
        command[0] = np.clip(command[0], -cfg.max_reverse_speed, cfg.max_linear_speed)
        command[1] = np.clip(command[1], -cfg.max_angular_speed, cfg.max_angular_speed)
        if cfg.min_turn_radius > 0.0:  # a car cannot turn faster than its steering allows
            limit = abs(command[0]) / cfg.min_turn_radius
            command[1] = np.clip(command[1], -limit, limit)
        dt = cfg.control_period / cfg.substeps
        noise_v, noise_w = self._odom_rng.normal(0.0, (cfg.odom_linear_noise,
                                                       cfg.odom_angular_noise))
        v, w = self._twist
        pose, odom = tuple(self._pose), tuple(self._odom)
        collision = False
        for _ in range(cfg.substeps):
            v += np.clip(command[0] - v, -cfg.max_linear_accel * dt, cfg.max_linear_accel * dt)
            w += np.clip(command[1] - w, -cfg.max_angular_accel * dt,
                         cfg.max_angular_accel * dt)
            moved = integrate_unicycle(pose, v, w, dt)
            if v != 0.0 and self._penetrates(moved):
                # Refuse the translation, keep the turn: the footprint is a disc.
                moved = (pose[0], pose[1], moved[2])
                v, collision = 0.0, True
            pose = moved
            odom = integrate_unicycle(odom, v * self._odom_scale + noise_v,
                                      w + self._gyro_bias + noise_w, dt)
        self._pose = np.array(pose)
        self._odom = np.array(odom)
        self._twist = np.array([v, w])
        self._odom_twist = np.array([v * self._odom_scale + noise_v,
                                     w + self._gyro_bias + noise_w])
        self._steps += 1
        self._move_distractors()
        return self._observe(collision=collision, action=command)

    @property
    def gyro_bias(self) -> float:
        """This episode's odometry turn-rate bias [rad/s]: truth, for evaluation only."""
        return float(self._gyro_bias)

    def render_at(self, pose, distractors: bool = True) -> np.ndarray:
        """Camera image uint8 [H, W, 3] from pose (x, y, yaw), e.g. a goal image."""
        if self.layout is None:
            raise RuntimeError('DiffDriveSim.render_at() called before reset()')
        if distractors or not self._distractor_ids:
            return self._render(pose)
        self._show_distractors(False)
        try:
            return self._render(pose)
        finally:
            self._show_distractors(True)

    def sample_free_pose(self, rng: np.random.Generator, margin: float = 0.05) -> np.ndarray:
        """A uniformly drawn (x, y, yaw) whose footprint clears every block by margin."""
        if self.layout is None:
            self.reset(seed=0)
        radius = self.config.robot_radius + margin
        half = self.layout.half - radius
        for _ in range(10000):
            x, y = rng.uniform(-half, half, size=2)
            if self.layout.is_free(x, y, radius):
                return np.array([x, y, geometry.wrap_angle(rng.uniform(-math.pi, math.pi))])
        raise RuntimeError(f'no free pose found in layout {self.layout.name!r}')

    @property
    def time(self) -> float:
        return self._steps * self.config.control_period

    def close(self):
        if self._client is not None:
            pybullet.disconnect(physicsClientId=self._client)
            self._client = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown: pybullet may already be gone
            pass

    # -- scene ------------------------------------------------------------------------------

    def _build(self, layout: Layout):
        c = self._client
        pybullet.resetSimulation(physicsClientId=c)
        pybullet.setGravity(0, 0, 0, physicsClientId=c)
        self.layout = layout
        self._build_floor()
        self._block_ids = {self._add_block(block) for block in layout.blocks}
        radius, height = self.config.robot_radius, 0.2
        shape = pybullet.createCollisionShape(pybullet.GEOM_CYLINDER, radius=radius,
                                              height=height, physicsClientId=c)
        # The robot body exists only for contact queries and is parked out of sight between
        # them (TinyRenderer draws the collision shape of a body without a visual shape).
        self._robot = pybullet.createMultiBody(1.0, shape, -1, _PARKED,
                                               physicsClientId=c)
        self._distractor_ids = []
        if self.config.distractors:
            for i in range(self.config.num_distractors):
                visual = pybullet.createVisualShape(
                    pybullet.GEOM_SPHERE, radius=0.16,
                    rgbaColor=DISTRACTOR_COLOURS[i % len(DISTRACTOR_COLOURS)],
                    physicsClientId=c)
                # baseCollisionShapeIndex -1: seen by the camera, invisible to contacts.
                self._distractor_ids.append(pybullet.createMultiBody(
                    0, -1, visual, [0, 0, -10], physicsClientId=c))

    def _build_floor(self):
        """Checkerboard floor (motion cues): one visual-only mesh of tile quads per colour."""
        c = self._client
        half = self.layout.half + WALL_THICKNESS
        count = max(2, int(math.ceil(2 * half / FLOOR_TILE)))
        tile = 2 * half / count
        for parity, rgba in enumerate(FLOOR_COLOURS):
            vertices, indices = [], []
            for i in range(count):
                for j in range(count):
                    if (i + j) % 2 != parity:
                        continue
                    x0, y0, base = i * tile - half, j * tile - half, len(vertices)
                    vertices += [[x0, y0, 0.0], [x0 + tile, y0, 0.0],
                                 [x0 + tile, y0 + tile, 0.0], [x0, y0 + tile, 0.0]]
                    indices += [base, base + 1, base + 2, base, base + 2, base + 3]
            visual = pybullet.createVisualShape(pybullet.GEOM_MESH, vertices=vertices,
                                                indices=indices, rgbaColor=rgba,
                                                physicsClientId=c)
            pybullet.createMultiBody(0, -1, visual, [0, 0, 0], physicsClientId=c)

    def _add_block(self, block: Block) -> int:
        c = self._client
        hx, hy, hz = block.size[0] / 2, block.size[1] / 2, block.height / 2
        if block.shape == 'cylinder':
            collision = pybullet.createCollisionShape(pybullet.GEOM_CYLINDER, radius=hx,
                                                      height=block.height, physicsClientId=c)
            visual = pybullet.createVisualShape(pybullet.GEOM_CYLINDER, radius=hx,
                                                length=block.height, rgbaColor=block.rgba,
                                                physicsClientId=c)
        else:
            collision = pybullet.createCollisionShape(pybullet.GEOM_BOX,
                                                      halfExtents=[hx, hy, hz],
                                                      physicsClientId=c)
            visual = pybullet.createVisualShape(pybullet.GEOM_BOX, halfExtents=[hx, hy, hz],
                                                rgbaColor=block.rgba, physicsClientId=c)
        return pybullet.createMultiBody(0, collision, visual, [*block.center, hz],
                                        physicsClientId=c)

    def _penetrates(self, pose) -> bool:
        """True when the robot's cylinder at pose overlaps a wall, landmark or obstacle."""
        c = self._client
        quat = pybullet.getQuaternionFromEuler([0, 0, float(pose[2])])
        pybullet.resetBasePositionAndOrientation(self._robot, [pose[0], pose[1], 0.11], quat,
                                                 physicsClientId=c)
        pybullet.performCollisionDetection(physicsClientId=c)
        hit = any(cp[2] in self._block_ids and cp[8] < _PENETRATION
                  for cp in pybullet.getContactPoints(bodyA=self._robot, physicsClientId=c))
        pybullet.resetBasePositionAndOrientation(self._robot, _PARKED, [0, 0, 0, 1],
                                                 physicsClientId=c)
        return hit

    # -- distractors ------------------------------------------------------------------------

    def _reset_distractors(self):
        n = len(self._distractor_ids)
        rng, half = self._distractor_rng, self.layout.half - 0.2
        self._distractor_pos = np.column_stack([rng.uniform(-half, half, size=(n, 2)),
                                                rng.uniform(0.15, 0.45, size=n)])
        self._distractor_vel = rng.normal(0.0, self.config.distractor_speed, size=(n, 2))
        self._show_distractors(True)

    def _move_distractors(self):
        """Seeded random walk with reflection at the arena bounds; no effect on dynamics."""
        n = len(self._distractor_ids)
        if n == 0:
            return
        cfg, rng, half = self.config, self._distractor_rng, self.layout.half - 0.2
        self._distractor_vel += rng.normal(0.0, cfg.distractor_speed, size=(n, 2))
        speed = np.linalg.norm(self._distractor_vel, axis=1, keepdims=True)
        self._distractor_vel *= np.minimum(1.0, cfg.distractor_speed / np.maximum(speed, 1e-9))
        xy = self._distractor_pos[:, :2] + self._distractor_vel * cfg.control_period
        over = np.abs(xy) > half
        self._distractor_vel[over] *= -1.0
        self._distractor_pos[:, :2] = np.clip(xy, -half, half)
        self._show_distractors(True)

    def _show_distractors(self, visible: bool):
        for body, pos in zip(self._distractor_ids, self._distractor_pos):
            where = pos if visible else (0.0, 0.0, -10.0)
            pybullet.resetBasePositionAndOrientation(body, list(where), [0, 0, 0, 1],
                                                     physicsClientId=self._client)

    # -- sensing ----------------------------------------------------------------------------

    def _render(self, pose) -> np.ndarray:
        cfg = self.config
        x, y, yaw = (float(v) for v in pose)
        pitch = math.radians(cfg.camera_pitch_deg)
        forward = (math.cos(yaw) * math.cos(pitch), math.sin(yaw) * math.cos(pitch),
                   math.sin(pitch))
        up = (-math.cos(yaw) * math.sin(pitch), -math.sin(yaw) * math.sin(pitch),
              math.cos(pitch))
        eye = (x, y, cfg.camera_height)
        target = tuple(e + f for e, f in zip(eye, forward))
        view = pybullet.computeViewMatrix(eye, target, up, physicsClientId=self._client)
        _, _, rgba, _, _ = pybullet.getCameraImage(
            cfg.image_width, cfg.image_height, view, self._projection, shadow=0,
            lightDirection=[0.4, -0.3, 1.0], renderer=pybullet.ER_TINY_RENDERER,
            flags=pybullet.ER_NO_SEGMENTATION_MASK, physicsClientId=self._client)
        rgba = np.asarray(rgba, dtype=np.uint8).reshape(cfg.image_height, cfg.image_width, 4)
        return np.ascontiguousarray(rgba[:, :, :3])

    def _observe(self, collision: bool, action: np.ndarray) -> SimStep:
        return SimStep(image=self._render(self._pose), odom_pose=self._odom.copy(),
                       odom_twist=self._odom_twist.copy(), true_pose=self._pose.copy(),
                       true_twist=self._twist.copy(), collision=bool(collision),
                       time=self.time, applied_action=np.asarray(action, dtype=float).copy())
