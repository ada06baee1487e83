"""The registry: document types, registers and numbering, documents, their files, and access grants."""
