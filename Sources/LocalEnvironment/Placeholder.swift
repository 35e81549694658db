// The LocalEnvironment module; see DESIGN.md.
