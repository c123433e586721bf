"""Reports: the report itself, its status table, its history and its photos."""
