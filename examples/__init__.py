"""Runnable pyfly-ws examples: ``pyfly-ws run examples.echo`` (or feed, rooms, chat)."""
