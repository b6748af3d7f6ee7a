"""Scenario bodies shared by the embedded integration tests and the container tests.

Each takes a config (its endpoints say which stack) and the few steps that differ between the two stacks as
callables, and asserts what users see. `tests/unit/compose/test_compose_files.py` checks that every scenario
the container tests call is also called by an embedded test, so both stacks answer to the same bodies.
"""
