"""``python -m reactive_record``: the same as the ``reactive-record`` command."""

from .cli import main

main()
