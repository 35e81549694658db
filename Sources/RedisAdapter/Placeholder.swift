// The RedisAdapter module; see DESIGN.md.
