"""The lab's commands, each a ``register(app)`` that ``hub`` loads through the ``hub.commands``
entry points (pyproject.toml) only when the command is asked for."""
