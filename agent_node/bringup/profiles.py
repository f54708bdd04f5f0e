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
"""What each use case starts: the single description behind the launch files and `jepa-agent run`.

A profile is a list of `NodeSpec`s (package, executable, node name, parameter files, extra
parameters, topic remappings), built from the profile's arguments. The launch files pass
LaunchConfiguration substitutions as argument values and turn each spec into a launch_ros Node;
`jepa-agent run` (agent_node.bringup.run_cmd) passes plain strings and turns each spec into a child
process. Both therefore start the same nodes with the same settings by construction.

Profiles for a real robot (robot, nav2, nav2_goal) have no default model_dir: the shipped model
was trained in the simulator and must not drive real hardware by accident. sim_demo and gazebo
default to it.

This module is ROS-free: it must import without launch, launch_ros or rclpy.
"""

import dataclasses
import os
import pathlib

PACKAGE = 'jepa_agent'
PROFILES = ('robot', 'sim_demo', 'gazebo', 'nav2', 'nav2_goal')

# Our nodes: node name (= executable = console script) -> module that `python -m` runs.
OUR_NODES = {
    'sim_node': 'agent_node.sim_node',
    'world_model_node': 'agent_node.world_model_node',
    'planner_node': 'agent_node.planner_node',
    'cmd_vel_relay': 'agent_node.cmd_vel_relay_node',
    'nav2_goal_relay': 'agent_node.nav2_goal_relay_node',
}
PROFILE_NODES = {
    'robot': ('world_model_node', 'planner_node'),
    'sim_demo': ('sim_node', 'world_model_node', 'planner_node'),
    'gazebo': ('world_model_node', 'planner_node', 'cmd_vel_relay'),
    'nav2': ('world_model_node', 'planner_node'),
    'nav2_goal': ('world_model_node', 'nav2_goal_relay'),
}
NODES_WITH_MODEL = ('world_model_node',)  # nodes that take the model_dir parameter
NODES_WITH_ODOM_FRAME = ('world_model_node', 'planner_node')
# The simulator-trained default model may drive only simulated robots.
DEFAULT_MODEL_PROFILES = ('sim_demo', 'gazebo')
BRIDGE_NAME = 'gz_bridge'

# (launch argument, topic name inside our nodes): each argument remaps that topic.
TOPIC_ARGUMENTS = (
    ('camera_topic', 'camera/image_raw'),
    ('camera_info_topic', 'camera/camera_info'),
    ('odom_topic', 'odom'),
    ('cmd_vel_topic', 'cmd_vel'),
    ('nav2_goal_topic', 'goal_pose'),
)
DEFAULT_ROBOT_NAME = 'robot'
# Gazebo topics of a camera sensor with <topic>camera</topic> (its calibration: camera_info).
GAZEBO_CAMERA_TOPIC = '/camera'
GAZEBO_CAMERA_INFO_TOPIC = '/camera_info'
# nav2_bringup (Jazzy): velocity_smoother -> cmd_vel_smoothed -> collision_monitor -> cmd_vel.
NAV2_COLLISION_MONITOR_INPUT = 'cmd_vel_smoothed'
# bt_navigator's NavigateToPose navigator subscribes goal_pose (what RViz's goal tool sends).
NAV2_GOAL_TOPIC = 'goal_pose'
# The gazebo profile's planner publishes here; cmd_vel_relay forwards it with a timeout.
RELAYED_CMD_VEL = 'planner/cmd_vel'
# parameter_bridge topic arguments: (topic argument, ROS type, direction, Gazebo type).
GAZEBO_BRIDGED = (
    ('odom_topic', 'nav_msgs/msg/Odometry', '[', 'gz.msgs.Odometry'),
    ('cmd_vel_topic', 'geometry_msgs/msg/Twist', ']', 'gz.msgs.Twist'),
    ('camera_topic', 'sensor_msgs/msg/Image', '[', 'gz.msgs.Image'),
    ('camera_info_topic', 'sensor_msgs/msg/CameraInfo', '[', 'gz.msgs.CameraInfo'),
)
GAZEBO_CLOCK_BRIDGE = '/clock@rosgraph_msgs/msg/Clock[gz.msgs.Clock'


@dataclasses.dataclass(frozen=True)
class ArgRef:
    """The value of another argument (a LaunchConfiguration in a launch file)."""

    name: str


@dataclasses.dataclass(frozen=True)
class Argument:
    """One profile argument; default is a string, a list of parts (str | ArgRef) to join, or
    None for a required argument."""

    name: str
    default: object
    description: str


@dataclasses.dataclass(frozen=True)
class NodeSpec:
    """One node to start. Values are strings (jepa-agent run) or launch substitutions."""

    package: str
    executable: str
    name: str
    module: str | None = None  # `python -m` module for our own nodes; None for other packages
    param_files: tuple = ()
    parameters: dict = dataclasses.field(default_factory=dict)
    remappings: tuple = ()  # ((from, to), ...) in rule order: the first matching rule wins
    arguments: tuple = ()  # command-line arguments before --ros-args
    install_hint: str = ''


def check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise ValueError(f'unknown profile {profile!r}: choose one of {", ".join(PROFILES)}')
    return profile


def profile_for_config(path) -> str:
    """The profile named by a config file's stem (robot.yaml -> 'robot')."""
    stem = pathlib.Path(path).name.split('.')[0]
    if stem not in PROFILES:
        raise ValueError(f'cannot infer the profile from {str(path)!r}: its name is not one of '
                         f'{", ".join(p + ".yaml" for p in PROFILES)}; pass --profile '
                         f'{{{",".join(PROFILES)}}}')
    return stem


def share_directory() -> str:
    """share/jepa_agent of the installed package, or the source tree when not installed."""
    try:
        from ament_index_python.packages import get_package_share_directory

        return get_package_share_directory(PACKAGE)
    except (ImportError, LookupError, ValueError):
        return str(pathlib.Path(__file__).resolve().parent.parent)


def default_model_dir(share_dir: str | None = None) -> str:
    """The shipped model: share/jepa_agent/models/default (or the source tree's models/default)."""
    return os.path.join(share_dir or share_directory(), 'models', 'default')


def topic_arguments(profile: str) -> tuple:
    """The (argument, topic) pairs of a profile: nav2_goal drives nothing, only it sends goals."""
    drop = 'cmd_vel_topic' if profile == 'nav2_goal' else 'nav2_goal_topic'
    return tuple(pair for pair in TOPIC_ARGUMENTS if pair[0] != drop)


def arguments(profile: str, share_dir: str, var=ArgRef) -> list[Argument]:
    """The profile's arguments with defaults, in declaration order.

    var(name) refers to an earlier argument (pass LaunchConfiguration in a launch file).
    """
    check_profile(profile)
    gazebo = profile == 'gazebo'
    if profile in DEFAULT_MODEL_PROFILES:
        model = Argument('model_dir', default_model_dir(share_dir),
                         'exported world model directory (ONNX + manifest)')
    else:
        model = Argument('model_dir', None,
                         'exported world model directory (ONNX + manifest), trained on this '
                         "robot's data; required: the shipped default is simulator-trained")
    args = [
        Argument('config', os.path.join(share_dir, 'config', f'{profile}.yaml'),
                 'ROS parameters file (per-node ros__parameters sections)'),
        model,
        Argument('use_sim_time', 'true' if gazebo else 'false',
                 'follow /clock instead of the wall clock (true/false)'),
    ]
    topic_defaults = {arg: topic for arg, topic in TOPIC_ARGUMENTS}
    if gazebo:
        robot = var('robot_name')
        args.append(Argument('robot_name', DEFAULT_ROBOT_NAME,
                             'Gazebo model name of the robot: its DiffDrive topics '
                             '/model/<name>/odometry and /model/<name>/cmd_vel are bridged, '
                             'its odometry frame is <name>/odom'))
        topic_defaults.update({
            'camera_topic': GAZEBO_CAMERA_TOPIC,
            'camera_info_topic': GAZEBO_CAMERA_INFO_TOPIC,
            'odom_topic': ['/model/', robot, '/odometry'],
            'cmd_vel_topic': ['/model/', robot, '/cmd_vel'],
        })
    elif profile == 'nav2':
        topic_defaults['cmd_vel_topic'] = NAV2_COLLISION_MONITOR_INPUT
    args += [Argument(arg, topic_defaults[arg], f'topic that the nodes use as {topic}')
             for arg, topic in topic_arguments(profile)]
    return args


def resolve_arguments(profile: str, share_dir: str, overrides: dict | None = None) -> dict:
    """Argument values as strings: overrides where given, else defaults (joined in order)."""
    declared = arguments(profile, share_dir)
    names = [a.name for a in declared]
    unknown = sorted(set(overrides or {}) - set(names))
    if unknown:
        raise ValueError(f'unknown argument(s) {unknown} for profile {profile!r}; allowed: '
                         f'{names}')
    values = {}
    for arg in declared:
        if overrides and arg.name in overrides:
            values[arg.name] = str(overrides[arg.name])
        elif arg.default is None:
            raise ValueError(f'profile {profile!r} needs {arg.name} (--model-dir DIR, or '
                             f'{arg.name}:=DIR with ros2 launch): {arg.description}')
        elif isinstance(arg.default, list):
            values[arg.name] = ''.join(values[p.name] if isinstance(p, ArgRef) else p
                                       for p in arg.default)
        else:
            values[arg.name] = arg.default
    return values


def concat(*parts):
    """One string value from parts: joined strings, or a substitution list in a launch file."""
    return ''.join(parts) if all(isinstance(p, str) for p in parts) else list(parts)


def _own_remaps(profile: str, name: str, values: dict) -> tuple:
    """Remaps of one node that go before the shared topic arguments (first rule wins)."""
    if profile == 'gazebo' and name == 'planner_node':
        return (('cmd_vel', RELAYED_CMD_VEL),)
    if name == 'cmd_vel_relay':
        return (('cmd_vel_in', RELAYED_CMD_VEL), ('cmd_vel_out', values['cmd_vel_topic']))
    return ()


def node_specs(profile: str, values: dict, extra_remaps=()) -> list[NodeSpec]:
    """The nodes of a profile, given a value for each of its arguments.

    extra_remaps ((from, to), ...) go first on our nodes, so they win over the topic arguments.
    """
    check_profile(profile)
    missing = [a.name for a in arguments(profile, '') if a.name not in values]
    if missing:
        raise ValueError(f'missing value(s) for argument(s) {missing} of profile {profile!r}')
    remaps = tuple(tuple(r) for r in extra_remaps)
    shared = tuple((topic, values[arg]) for arg, topic in topic_arguments(profile))
    specs = []
    for name in PROFILE_NODES[profile]:
        parameters = {'use_sim_time': values['use_sim_time']}
        if name in NODES_WITH_MODEL:
            parameters['model_dir'] = values['model_dir']
        if profile == 'gazebo' and name in NODES_WITH_ODOM_FRAME:
            parameters['odom_frame'] = concat(values['robot_name'], '/odom')  # DiffDrive's
        specs.append(NodeSpec(package=PACKAGE, executable=name, name=name,
                              module=OUR_NODES[name], param_files=(values['config'],),
                              parameters=parameters,
                              remappings=remaps + _own_remaps(profile, name, values) + shared))
    if profile == 'gazebo':
        specs.append(gazebo_bridge(values))
    return specs


def gazebo_bridge(values: dict) -> NodeSpec:
    """ros_gz_bridge's parameter_bridge for exactly the topics the gazebo profile's nodes use.

    Topic arguments (TOPIC@ROS_TYPE[GZ_TYPE: Gazebo to ROS, ]: ROS to Gazebo) keep one name
    on both sides, built from the launch arguments, so robot_name moves the bridge too.
    """
    bridged = [GAZEBO_CLOCK_BRIDGE]
    bridged += [concat(values[arg], f'@{ros_type}{direction}{gz_type}')
                for arg, ros_type, direction, gz_type in GAZEBO_BRIDGED]
    return NodeSpec(
        package='ros_gz_bridge', executable='parameter_bridge', name=BRIDGE_NAME,
        parameters={'use_sim_time': values['use_sim_time']}, arguments=tuple(bridged),
        install_hint='install ros_gz_bridge (e.g. `sudo apt install ros-jazzy-ros-gz-bridge`) '
                     'and source the ROS setup file')


def launch_node_kwargs(spec: NodeSpec) -> dict:
    """Keyword arguments of launch_ros.actions.Node for spec."""
    parameters = list(spec.param_files)
    if spec.parameters:
        parameters.append(dict(spec.parameters))
    kwargs = {'package': spec.package, 'executable': spec.executable, 'name': spec.name,
              'parameters': parameters, 'remappings': [tuple(r) for r in spec.remappings],
              'output': 'screen'}
    if spec.arguments:
        kwargs['arguments'] = list(spec.arguments)
    return kwargs


def launch_description(profile: str):
    """The launch.LaunchDescription of a profile: its declared arguments, then its nodes.

    For the launch files only: launch, launch_ros and ament_index_python are imported here, so
    the rest of this module stays importable without them.
    """
    from ament_index_python.packages import get_package_share_directory
    from launch import LaunchDescription
    from launch.actions import DeclareLaunchArgument
    from launch.substitutions import LaunchConfiguration
    from launch_ros.actions import Node

    declared = arguments(check_profile(profile), get_package_share_directory(PACKAGE),
                         var=LaunchConfiguration)
    values = {arg.name: LaunchConfiguration(arg.name) for arg in declared}
    actions = [DeclareLaunchArgument(arg.name, default_value=arg.default,
                                     description=arg.description) for arg in declared]
    actions += [Node(**launch_node_kwargs(spec)) for spec in node_specs(profile, values)]
    return LaunchDescription(actions)
