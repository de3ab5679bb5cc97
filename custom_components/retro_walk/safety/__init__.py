"""The safety response of a station: pure decisions, and the side that acts.

- ``policy.py`` (no Home Assistant import) decides: it takes detections,
  stream arrivals, sensor readings, the session's and the belt's state, alert
  answers and timer ticks, each with a time, and returns the actions to take.
- ``runner.py`` is the Home Assistant side: it subscribes to the motion input,
  the sensors, the station and phone actions, feeds the policy, keeps its
  timers and carries the actions out on the station (belt, session, entities).
- ``notifications.py`` sends the partner alerts and the walker's prompt with
  their translated texts.

Nothing here imports the coordinator: the runner drives it through the small
``Station`` protocol, so imports run one way (coordinator → safety → motion).
"""
