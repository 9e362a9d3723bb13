"""An example TraceMind step plugin: the ``example.scale`` and ``example.upper`` step kinds.

The signatures live in ``tracemind-steps.json`` next to this file (read by ``tmc`` as data);
the implementations live in :mod:`tracemind_example_steps.steps` (loaded by ``tm``).
"""
