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
"""Thin rclpy nodes of jepa_agent: messages in, world_model core, messages out."""

import os

# Each node runs one real-time loop; a per-process OpenBLAS thread pool only contends with
# onnxruntime and the camera driver (it raised the memory store's p99 per frame from 0.1 ms to
# several ms, BENCHMARKS.md). Set before any node module imports numpy; the environment wins.
os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')
