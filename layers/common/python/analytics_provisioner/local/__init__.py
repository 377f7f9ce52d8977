"""Local mode: the real state machine in moto's ASL interpreter, our handlers in-process.

Never imported in Lambda (it needs moto, a development dependency: ``pip install .[local]``).
"""
