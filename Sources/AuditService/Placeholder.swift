// The AuditService module; see DESIGN.md.
