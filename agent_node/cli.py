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
"""`jepa-agent`: one command line for data, training, export, evaluation and running the agent.

Each subcommand lives in its own module exposing `add_arguments(parser)` and `run(args) -> int`;
modules are imported only when their subcommand runs, so the ROS-free commands never load rclpy.
"""

import argparse
import importlib
import sys

SUBCOMMANDS = {
    'collect': ('world_model.data.collect_cmd', 'drive the simulator and record a rosbag2 bag'),
    'inspect': ('world_model.data.inspect_cmd',
                'what rosbag2 bags hold, and the settings training would derive'),
    'train': ('world_model.training.train_cmd', 'train a JEPA world model from rosbag2 bags'),
    'refit-relpose': ('world_model.training.relpose_refit_cmd',
                      "refit an exported model's relative-pose head on more rosbag2 bags"),
    'evaluate': ('world_model.evaluation.evaluate_cmd',
                 'evaluate an exported model against the copy-last-latent baseline'),
    'export': ('world_model.export.export_cmd', 'export a training run to ONNX with a manifest'),
    'run': ('agent_node.bringup.run_cmd',
            'start the nodes of a config file (what a launch file does)'),
    'closed-loop': ('agent_node.evaluation.closed_loop_cmd',
                    'image-goal episodes through the real nodes'),
    'explore': ('agent_node.evaluation.explore_cmd',
                'drive the simulator with the exploration policy; PNG of frames and trajectory'),
    'demo': ('agent_node.evaluation.demo_cmd',
             'the simulator demo: drive to an image goal, write a PNG'),
}


def build_parser(selected: str | None = None) -> argparse.ArgumentParser:
    """The parser; only the selected subcommand's module is imported (for its arguments)."""
    parser = argparse.ArgumentParser(prog='jepa-agent', description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest='command', required=True, metavar='COMMAND')
    for name, (module, help_text) in SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        sub_parser.set_defaults(_module=module)
        if name != selected:
            continue
        try:
            importlib.import_module(module).add_arguments(sub_parser)
        except ImportError as exc:
            sub_parser.set_defaults(_import_error=exc)
    return parser


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    selected = next((a for a in argv if a in SUBCOMMANDS), None)
    args = build_parser(selected).parse_args(argv)
    if getattr(args, '_import_error', None) is not None:
        print(f'jepa-agent {args.command}: unavailable: {args._import_error}', file=sys.stderr)
        return 2
    return int(importlib.import_module(args._module).run(args) or 0)


if __name__ == '__main__':
    sys.exit(main())
