"""Redis: the key layout, the client, and the Lua scripts with the buffer they keep.

Everything that talks to Redis lives here; nothing here touches the database.
"""
