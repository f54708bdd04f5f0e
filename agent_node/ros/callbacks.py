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
"""Subscription callbacks that never raise: a node must not die because of what a client sends."""

import functools


def never_raises(kind: str):
    """Decorate a subscription callback method: an unexpected exception is handed to
    self._bad(kind, message) (count, log once per burst) instead of propagating into the
    executor, which would end the node."""
    def wrap(callback):
        @functools.wraps(callback)
        def guarded(self, msg):
            try:
                callback(self, msg)
            except Exception as exc:
                self._bad(kind, f'{type(exc).__name__}: {exc}')
        return guarded
    return wrap
