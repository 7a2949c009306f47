"""Layer 4, one connection's life, top to bottom.

``apps`` (start, drain and find an application's registries) > ``registry`` (the
``Endpoint`` records and the ``SessionRegistry`` of their live sessions, which name
each other) > ``run`` (admit a connection, resolve the controller, run the handler,
map its outcome) > ``supervisor`` (what runs beside one handler; ``Served`` and
``Live`` say what it needs of an endpoint and a registry) > ``timekeeper`` (the time
limits), ``controller`` (the lazily built controller) and ``outcomes`` (the close-code table).
"""
