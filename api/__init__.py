"""The HTTP service. It sends work by task name and never imports ``worker``."""
