// The AdderService module; see DESIGN.md.
