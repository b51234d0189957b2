"""Redis: the key layout, the client, the Lua scripts and the buffer they keep, and its inspection.

Everything that talks to Redis lives here; nothing here touches the database.
"""
