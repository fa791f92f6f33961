"""The actor core: processes, the termination ladder, actors and the supervisor."""
