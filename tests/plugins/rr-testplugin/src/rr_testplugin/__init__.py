"""A throwaway ReactiveRecord plugin distribution for the tests (entry point ``testplugin``).

``rr_testplugin.plugin`` records every hook call and injects failures where its config
section says; ``rr_testplugin.misspelt`` misspells a hook so that start-up must fail.
"""

from .plugin import AUDIT_MODEL, CountingStore, InjectedError, State, state_of

__all__ = ["AUDIT_MODEL", "CountingStore", "InjectedError", "State", "state_of"]
