// The MongoAdapter module; see DESIGN.md.
