// The EventService module; see DESIGN.md.
