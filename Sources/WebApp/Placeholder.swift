// The WebApp module; see DESIGN.md.
