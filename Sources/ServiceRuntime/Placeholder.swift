// The ServiceRuntime module; see DESIGN.md.
