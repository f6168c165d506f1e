"""The Celery worker: the task, and the pipeline it wires (parse -> enrich -> persist)."""
