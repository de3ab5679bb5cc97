"""Offline evaluation of the Retro Walk instability detector (``scripts/evaluate``).

Real waist/lower-back walking from PyPI packages (read from their archives,
never installed), physically modelled falls and stumbles injected into it,
everything written as Sensor Logger messages and replayed through
``custom_components.retro_walk.replay``. No Home Assistant import.
"""
