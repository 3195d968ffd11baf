"""REST (Flask): each feature module owns its blueprint; seed000 builds seed 000's two small servers."""
