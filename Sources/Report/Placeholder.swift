// The Report module; see DESIGN.md.
