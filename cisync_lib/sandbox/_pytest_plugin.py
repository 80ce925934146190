"""pytest plugin shipping the sandbox fixtures to embedders (entry point ``pytest11``).

Importing this module must stay cheap and must not require the ``sandbox``
extra: pytest loads it in every project that has cisync_lib installed.
"""
